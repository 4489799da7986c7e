//! Writes one deterministic zip: entries in the given (sorted) order, one fixed timestamp, no
//! extra fields, modes 0644/0755 (symlinks 0777), deflate level 4, stored when deflate does not
//! help. Entries are compressed in parallel on the rayon pool, at most `BUDGET` bytes ahead of
//! the writer, so memory does not grow with the package; files over `LARGE` bytes are compressed
//! into a temporary zip on disk and copied raw. The SHA-256 is computed while writing.
//! Owns: the zip bytes. Must not: choose which files go in.

use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Condvar, Mutex};

use sha2::{Digest, Sha256};
use zip::write::{PreparedZipFile, SimpleFileOptions};
use zip::{CompressionMethod, DateTime, ZipArchive, ZipWriter};

use super::PackageError;
use super::select::{Content, Entry};

/// Uncompressed bytes compressed ahead of the writer, at most.
const BUDGET: u64 = 16 * 1024 * 1024;
/// Files larger than this are compressed to a temporary file rather than to memory.
pub const LARGE: u64 = 4 * 1024 * 1024;
const LEVEL: i64 = 4;

/// What the writer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub size: u64,
    pub uncompressed_size: u64,
    /// SHA-256 of the zip bytes.
    pub sha256: [u8; 32],
}

/// Writes `entries` to `zip_path`, with every timestamp set to `epoch` (seconds, UTC).
pub fn write(
    entries: &[Entry],
    zip_path: &Path,
    epoch: Option<i64>,
) -> Result<Written, PackageError> {
    write_with(entries, zip_path, epoch, LARGE)
}

/// `write` with the large-file threshold as a parameter (tests use a small one).
pub fn write_with(
    entries: &[Entry],
    zip_path: &Path,
    epoch: Option<i64>,
    large: u64,
) -> Result<Written, PackageError> {
    let io = |source| PackageError::Io {
        path: zip_path.to_owned(),
        source,
    };
    if let Some(parent) = zip_path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs_err::create_dir_all(parent).map_err(io)?;
    }
    let scratch = tempfile::Builder::new()
        .prefix(".lambda-pipeline-")
        .tempdir_in(zip_path.parent().unwrap_or(Path::new(".")))
        .map_err(io)?;
    let file = fs_err::File::create(zip_path).map_err(io)?;
    let sink = HashingWriter::new(BufWriter::with_capacity(256 * 1024, file.into_parts().0));
    let mut zip = ZipWriter::new(sink);
    let options = base_options(epoch);
    let jobs = Jobs {
        options,
        large,
        scratch: scratch.path().to_owned(),
        budget: Arc::new(Budget::default()),
    };
    let receiver = jobs.start(entries.to_vec());
    let _close = CloseOnDrop(jobs.budget.clone());
    for pending in receiver {
        let (prepared, cost) = pending
            .recv()
            .map_err(|_| io(io::Error::other("a compression worker stopped")))?;
        append(&mut zip, prepared?).map_err(|e| zip_error(zip_path, e))?;
        jobs.budget.release(cost);
    }
    let sink = zip.finish().map_err(|e| zip_error(zip_path, e))?;
    let (size, sha256) = sink.finish().map_err(io)?;
    Ok(Written {
        size,
        uncompressed_size: entries.iter().map(|e| e.size).sum(),
        sha256,
    })
}

fn zip_error(path: &Path, err: zip::result::ZipError) -> PackageError {
    PackageError::Io {
        path: path.to_owned(),
        source: io::Error::other(err),
    }
}

/// The options every entry shares: the fixed timestamp and deflate level 6.
fn base_options(epoch: Option<i64>) -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(LEVEL))
        .last_modified_time(timestamp(epoch))
        .large_file(false)
}

/// `SOURCE_DATE_EPOCH` as a zip (DOS) time, clamped to 1980–2107; 1980-01-01 when unset.
pub fn timestamp(epoch: Option<i64>) -> DateTime {
    let fallback = DateTime::default();
    let Some(time) = epoch.and_then(|s| chrono::DateTime::from_timestamp(s, 0)) else {
        return fallback;
    };
    use chrono::{Datelike, Timelike};
    let year = time.year().clamp(1980, 2107) as u16;
    if year != time.year() as u16 {
        return fallback;
    }
    DateTime::from_date_and_time(
        year,
        time.month() as u8,
        time.day() as u8,
        time.hour() as u8,
        time.minute() as u8,
        time.second() as u8,
    )
    .unwrap_or(fallback)
}

/// A compressed entry: in memory, or in a one-entry zip on disk.
enum Prepared {
    Memory(PreparedZipFile),
    Disk(tempfile::NamedTempFile),
}

fn append<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    prepared: Prepared,
) -> zip::result::ZipResult<()> {
    match prepared {
        Prepared::Memory(file) => zip.add_prepared_file(file),
        Prepared::Disk(temp) => {
            let mut archive = ZipArchive::new(temp.reopen()?)?;
            zip.raw_copy_file(archive.by_index_raw(0)?)
        }
    }
}

/// Compression jobs on the rayon pool, delivered to the writer in entry order.
struct Jobs {
    options: SimpleFileOptions,
    large: u64,
    scratch: PathBuf,
    budget: Arc<Budget>,
}

type Pending = Receiver<(Result<Prepared, PackageError>, u64)>;

impl Jobs {
    /// Spawns a dispatcher that queues each entry's job, waiting for budget before each one.
    fn start(&self, entries: Vec<Entry>) -> Receiver<Pending> {
        let (queue, receiver) = sync_channel::<Pending>(1024);
        let (options, large, scratch, budget) = (
            self.options,
            self.large,
            self.scratch.clone(),
            self.budget.clone(),
        );
        std::thread::spawn(move || {
            for entry in entries {
                let cost = entry.size.clamp(1, large);
                budget.acquire(cost);
                let (done, pending) = sync_channel(1);
                if queue.send(pending).is_err() {
                    return;
                }
                let scratch = scratch.clone();
                rayon::spawn(move || {
                    let result = compress(&entry, options, large, &scratch);
                    let _ = done.send((result, cost));
                });
            }
        });
        receiver
    }
}

/// Compresses one entry: symlinks stored, large files to disk, others to memory.
fn compress(
    entry: &Entry,
    options: SimpleFileOptions,
    large: u64,
    scratch: &Path,
) -> Result<Prepared, PackageError> {
    let io = |source| PackageError::Io {
        path: entry.path.clone(),
        source,
    };
    let zip_io = |err: zip::result::ZipError| io(io::Error::other(err));
    match &entry.content {
        Content::Symlink { target } => {
            let options = options
                .compression_method(CompressionMethod::Stored)
                .compression_level(None)
                .external_attributes(0o120_777 << 16);
            PreparedZipFile::from_data(&entry.name, options, target.as_bytes())
                .map(Prepared::Memory)
                .map_err(zip_io)
        }
        Content::File { executable } => {
            let options = options.unix_permissions(if *executable { 0o755 } else { 0o644 });
            if entry.size > large {
                compress_to_disk(entry, options, scratch)
            } else {
                compress_to_memory(entry, options)
            }
        }
    }
}

fn compress_to_memory(entry: &Entry, options: SimpleFileOptions) -> Result<Prepared, PackageError> {
    let io = |source| PackageError::Io {
        path: entry.path.clone(),
        source,
    };
    let zip_io = |err: zip::result::ZipError| io(io::Error::other(err));
    let data = fs_err::read(&entry.path).map_err(io)?;
    let deflated = PreparedZipFile::from_data(&entry.name, options, &data).map_err(zip_io)?;
    if deflated.compressed_size() < deflated.uncompressed_size() {
        return Ok(Prepared::Memory(deflated));
    }
    let stored = options
        .compression_method(CompressionMethod::Stored)
        .compression_level(None);
    PreparedZipFile::from_data(&entry.name, stored, &data)
        .map(Prepared::Memory)
        .map_err(zip_io)
}

/// Streams a large file into a one-entry zip in `scratch`; stored when deflate does not help.
fn compress_to_disk(
    entry: &Entry,
    options: SimpleFileOptions,
    scratch: &Path,
) -> Result<Prepared, PackageError> {
    let deflated = one_entry_zip(entry, options, scratch)?;
    let (compressed, size) = entry_sizes(&deflated, &entry.path)?;
    if compressed < size {
        return Ok(Prepared::Disk(deflated));
    }
    let stored = options
        .compression_method(CompressionMethod::Stored)
        .compression_level(None);
    one_entry_zip(entry, stored, scratch).map(Prepared::Disk)
}

fn one_entry_zip(
    entry: &Entry,
    options: SimpleFileOptions,
    scratch: &Path,
) -> Result<tempfile::NamedTempFile, PackageError> {
    let io = |path: &Path, source| PackageError::Io {
        path: path.to_owned(),
        source,
    };
    let temp = tempfile::NamedTempFile::new_in(scratch).map_err(|e| io(scratch, e))?;
    let mut source = fs_err::File::open(&entry.path).map_err(|e| io(&entry.path, e))?;
    let handle = temp.reopen().map_err(|e| io(temp.path(), e))?;
    let mut zip = ZipWriter::new(BufWriter::new(handle));
    let zip_io = |err: zip::result::ZipError| io(temp.path(), io::Error::other(err));
    zip.start_file(entry.name.as_str(), options)
        .map_err(zip_io)?;
    copy_in_blocks(&mut source, &mut zip).map_err(|e| io(&entry.path, e))?;
    let mut inner = zip.finish().map_err(zip_io)?;
    inner.flush().map_err(|e| io(temp.path(), e))?;
    Ok(temp)
}

/// Copies in full 64 KiB blocks whatever the reads return, so that the deflate stream (which
/// depends on how its input is split) is a function of the file's bytes alone.
fn copy_in_blocks(source: &mut impl Read, sink: &mut impl Write) -> io::Result<()> {
    let mut block = vec![0; 64 * 1024];
    loop {
        let mut filled = 0;
        while filled < block.len() {
            match source.read(&mut block[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        sink.write_all(&block[..filled])?;
        if filled < block.len() {
            return Ok(());
        }
    }
}

/// (compressed, uncompressed) size of the single entry in a temporary zip.
fn entry_sizes(temp: &tempfile::NamedTempFile, path: &Path) -> Result<(u64, u64), PackageError> {
    let io = |source| PackageError::Io {
        path: path.to_owned(),
        source,
    };
    let file = temp.reopen().map_err(io)?;
    let mut archive = ZipArchive::new(file).map_err(|e| io(io::Error::other(e)))?;
    let entry = archive
        .by_index_raw(0)
        .map_err(|e| io(io::Error::other(e)))?;
    Ok((entry.compressed_size(), entry.size()))
}

/// Bytes in flight between the dispatcher and the writer.
#[derive(Default)]
struct Budget {
    /// (bytes in flight, writer gone).
    used: Mutex<(u64, bool)>,
    freed: Condvar,
}

impl Budget {
    /// Waits until `cost` fits (or nothing is in flight, or the writer is gone), then takes it.
    fn acquire(&self, cost: u64) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        while !used.1 && used.0 > 0 && used.0 + cost > BUDGET {
            used = self.freed.wait(used).unwrap_or_else(|e| e.into_inner());
        }
        used.0 += cost;
    }

    fn release(&self, cost: u64) {
        let mut used = self.used.lock().unwrap_or_else(|e| e.into_inner());
        used.0 = used.0.saturating_sub(cost);
        self.freed.notify_all();
    }

    fn close(&self) {
        self.used.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.freed.notify_all();
    }
}

/// Lets the dispatcher finish when the writer stops early.
struct CloseOnDrop(Arc<Budget>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Hashes and counts every byte on its way to the file. It only appends: the zip writer's
/// position queries are answered, any other seek is refused (it would break the running hash).
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    position: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            position: 0,
        }
    }

    fn finish(mut self) -> io::Result<(u64, [u8; 32])> {
        self.inner.flush()?;
        Ok((self.position, self.hasher.finalize().into()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.position += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Seek for HashingWriter<W> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match to {
            SeekFrom::Start(p) if p == self.position => Ok(p),
            SeekFrom::Current(0) | SeekFrom::End(0) => Ok(self.position),
            _ => Err(io::Error::other(
                "the zip writer tried to seek back; the package cannot be hashed while written",
            )),
        }
    }
}

/// SHA-256 of a file on disk, streamed.
pub fn sha256_file(path: &Path) -> Result<([u8; 32], u64), PackageError> {
    let io = |source| PackageError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = fs_err::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    let mut total = 0;
    loop {
        let read = file.read(&mut buffer).map_err(io)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Ok((hasher.finalize().into(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_come_from_source_date_epoch() {
        assert_eq!(timestamp(None), DateTime::default());
        let t = timestamp(Some(1_700_000_000));
        assert_eq!((t.year(), t.month(), t.day()), (2023, 11, 14));
        assert_eq!(timestamp(Some(0)), DateTime::default());
    }

    fn entry(dir: &Path, name: &str, data: &[u8]) -> Entry {
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        Entry {
            name: name.to_owned(),
            path,
            content: Content::File { executable: false },
            size: data.len() as u64,
        }
    }

    #[test]
    fn large_and_small_paths_store_the_same_contents_deterministically() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 97).to_le_bytes())
            .collect();
        let entries = vec![
            entry(dir.path(), "a.bin", &text),
            entry(dir.path(), "b.txt", b"hello"),
        ];
        let memory = write_with(&entries, &dir.path().join("m.zip"), None, u64::MAX).unwrap();
        let disk = write_with(&entries, &dir.path().join("d.zip"), None, 1).unwrap();
        let again = write_with(&entries, &dir.path().join("d2.zip"), None, 1).unwrap();
        assert_eq!(disk, again);
        assert_eq!(memory.uncompressed_size, disk.uncompressed_size);
        let bytes = std::fs::read(dir.path().join("d.zip")).unwrap();
        assert_eq!(<[u8; 32]>::from(Sha256::digest(&bytes)), disk.sha256);
        assert_eq!(bytes.len() as u64, disk.size);
        for zip in ["m.zip", "d.zip"] {
            let file = std::fs::File::open(dir.path().join(zip)).unwrap();
            let mut archive = ZipArchive::new(file).unwrap();
            let mut a = Vec::new();
            archive
                .by_name("a.bin")
                .unwrap()
                .read_to_end(&mut a)
                .unwrap();
            assert!(a == text, "{zip}");
        }
    }
}
