//! Durability of exactly what a run wrote, whatever other processes are writing: each staged
//! file is flushed with `fdatasync` (after `sync_file_range` has started the write-back of all of
//! them, so their flushes overlap), and each directory a name was made in with `fsync`
//! ([`crate::project_dir::Dir::sync`]). No `syncfs`/`sync`, whose cost is every dirty page of the
//! whole file system.

use std::fs::File;

/// Makes the content of every file in `files` durable.
pub fn flush_files<'a>(files: impl Iterator<Item = &'a File> + Clone) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    for file in files.clone() {
        use std::os::fd::AsRawFd;
        // SAFETY: sync_file_range on a descriptor that stays open for the call; it only starts
        // write-back (the fdatasync below waits for it).
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    for file in files {
        file.sync_data()?;
    }
    Ok(())
}
