//! In-process POSIX shell over a host sandbox: `command`, `shell` and `lookup('pipe')` never start a real process.
