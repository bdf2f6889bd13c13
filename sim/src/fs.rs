//! Sandboxed filesystem: every path of a simulated host resolved inside its root, as a chroot would.
