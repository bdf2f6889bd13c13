//! Shell counterparts of the OS modules (filled in below).
