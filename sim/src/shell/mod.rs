//! In-process POSIX shell over a host sandbox: `command`, `shell` and `lookup(\x27pipe\x27)` never start a real process.
