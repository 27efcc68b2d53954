//! `backup` and `restore`: one archive (tar, gzip) holding a snapshot of the
//! embedded database, the master key and every image the snapshot points
//! to. A backup is taken while the server runs; a restore fills an empty
//! data folder, after which the server answers as the original did.
//!
//! PostgreSQL deployments use `pg_dump` instead (see the README); the
//! archive would not be the right tool for a database many nodes share.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use basic_admin_app::blobs::Blobs;
use basic_admin_app::master_key;

const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "basic-admin.db";
const FILES: &str = "files/";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backup and restore work on the embedded SQLite database; for PostgreSQL use pg_dump and pg_restore (see the README)"
    )]
    NotEmbedded,
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let what = what.into();
    move |source| BackupError::Io { what, source }
}

fn other(e: impl std::fmt::Display) -> BackupError {
    BackupError::Other(e.to_string())
}

/// What an archive holds, written first.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub created_at: String,
    pub version: String,
    /// False when the master key came from `BASIC_MASTER_KEY`: it must be
    /// given to the restored server the same way.
    pub master_key: bool,
    pub files: usize,
}

/// The file of the embedded database.
fn sqlite_file(config: &Config) -> Result<PathBuf, BackupError> {
    if !config.database_url.starts_with("sqlite:") {
        return Err(BackupError::NotEmbedded);
    }
    basic_admin_store_sqlite::file_of(&config.database_url)
        .map_err(other)?
        .ok_or_else(|| BackupError::Refused("an in-memory database cannot be backed up".into()))
}

/// Writes the archive `to` (created 0600: it holds the master key). It
/// appears only once complete.
pub async fn backup(config: &Config, to: &Path) -> Result<Manifest, BackupError> {
    let database = sqlite_file(config)?;
    if !database.is_file() {
        return Err(BackupError::Refused(format!("there is no database at {}", database.display())));
    }
    let partial = with_suffix(to, ".partial");
    // The snapshot is the whole database: it is made in a folder only this
    // user may enter, whatever the umask.
    let folder = with_suffix(to, ".snapshot");
    let _ = std::fs::remove_dir_all(&folder);
    private_folder(&folder)?;
    let result = write_archive(config, &folder.join("basic-admin.db"), &partial).await;
    let _ = std::fs::remove_dir_all(&folder);
    match result {
        Ok(manifest) => {
            std::fs::rename(&partial, to).map_err(io(format!("cannot write {}", to.display())))?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

async fn write_archive(config: &Config, snapshot: &Path, partial: &Path) -> Result<Manifest, BackupError> {
    let live = basic_admin_store_sqlite::open(&config.database_url).await.map_err(other)?;
    let taken = basic_admin_core::store::Store::snapshot(&live, snapshot).await;
    basic_admin_core::store::Store::close(&live).await;
    taken.map_err(other)?;

    // The images the snapshot points to, not those of the live database:
    // the archive must agree with itself.
    let copy = basic_admin_store_sqlite::open(&format!("sqlite://{}", snapshot.display())).await.map_err(other)?;
    let keys = basic_admin_core::store::UploadStore::upload_keys(&copy).await;
    basic_admin_core::store::Store::close(&copy).await;
    let keys = keys.map_err(other)?;

    let blobs = Blobs::open(&config.storage, &config.storage_env).map_err(other)?;
    let master_key_file = config.data_dir.join(master_key::FILE_NAME);
    let with_key = config.master_key.is_none();
    let manifest = Manifest {
        format: FORMAT,
        created_at: chrono::Utc::now().to_rfc3339(),
        version: env!("CARGO_PKG_VERSION").into(),
        master_key: with_key,
        files: keys.len(),
    };

    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(partial)
        .map_err(io(format!("cannot create {}", partial.display())))?;
    let mut archive = tar::Builder::new(GzEncoder::new(file, Compression::default()));
    let write = |e| io("cannot write the archive")(e);
    append(&mut archive, MANIFEST, &serde_json::to_vec_pretty(&manifest).map_err(other)?).map_err(write)?;
    if with_key {
        let key = std::fs::read(&master_key_file).map_err(io(format!("cannot read {}", master_key_file.display())))?;
        append(&mut archive, master_key::FILE_NAME, &key).map_err(write)?;
    }
    let mut db = File::open(snapshot).map_err(io("cannot read the snapshot"))?;
    archive.append_file(DATABASE, &mut db).map_err(write)?;
    for key in &keys {
        // A file missing from storage is the live server's problem already;
        // the archive says so rather than failing.
        match blobs.get(key).await.map_err(other)? {
            Some(bytes) => append(&mut archive, &format!("{FILES}{key}"), &bytes).map_err(write)?,
            None => tracing::warn!(file = %key, "a recorded image is missing from storage"),
        }
    }
    let gz = archive.into_inner().map_err(write)?;
    let file = gz.finish().map_err(write)?;
    file.sync_all().map_err(write)?;
    Ok(manifest)
}

fn append<W: std::io::Write>(archive: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()));
    header.set_cksum();
    archive.append_data(&mut header, name, bytes)
}

fn private_folder(path: &Path) -> Result<(), BackupError> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(io(format!("cannot create {}", path.display())))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Fills the configured (empty) data folder and storage from `from`.
pub async fn restore(config: &Config, from: &Path) -> Result<Manifest, BackupError> {
    let database = sqlite_file(config)?;
    if database.exists() {
        return Err(BackupError::Refused(format!(
            "{} exists: restore into an empty data folder (or move the database away first)",
            database.display()
        )));
    }
    crate::create_data_dir(&config.data_dir).map_err(other)?;
    let file = File::open(from).map_err(io(format!("cannot read {}", from.display())))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let read = |e| io(format!("{} is not a readable backup", from.display()))(e);
    let blobs = Blobs::open(&config.storage, &config.storage_env).map_err(other)?;

    let mut manifest: Option<Manifest> = None;
    let mut restored_db = None;
    let mut files = 0;
    let staged = with_suffix(&database, ".restoring");
    for entry in archive.entries().map_err(read)? {
        let mut entry = entry.map_err(read)?;
        let name = entry.path().map_err(read)?.to_string_lossy().into_owned();
        if name == MANIFEST {
            let mut text = Vec::new();
            entry.read_to_end(&mut text).map_err(read)?;
            let found: Manifest = serde_json::from_slice(&text)
                .map_err(|e| BackupError::Refused(format!("the backup's manifest is unreadable: {e}")))?;
            if found.format != FORMAT {
                return Err(BackupError::Refused(format!("backup format {} is not known here", found.format)));
            }
            manifest = Some(found);
            continue;
        }
        if manifest.is_none() {
            return Err(BackupError::Refused(format!("{} does not start with a manifest", from.display())));
        }
        if name == master_key::FILE_NAME {
            let mut key = Vec::new();
            entry.read_to_end(&mut key).map_err(read)?;
            restore_master_key(config, &key)?;
        } else if name == DATABASE {
            let mut out = File::create(&staged).map_err(io(format!("cannot write {}", staged.display())))?;
            std::io::copy(&mut entry, &mut out).map_err(read)?;
            out.sync_all().map_err(io("cannot write the database"))?;
            restored_db = Some(staged.clone());
        } else if let Some(key) = name.strip_prefix(FILES) {
            if key.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
                return Err(BackupError::Refused(format!("the backup holds a file with an unsafe name: {name}")));
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(read)?;
            blobs.put(key, Bytes::from(bytes)).await.map_err(other)?;
            files += 1;
        }
    }
    let manifest = manifest.ok_or_else(|| BackupError::Refused(format!("{} holds no manifest", from.display())))?;
    let staged = restored_db.ok_or_else(|| BackupError::Refused(format!("{} holds no database", from.display())))?;
    if files != manifest.files {
        let _ = std::fs::remove_file(&staged);
        return Err(BackupError::Refused(format!("the backup lists {} files but holds {files}", manifest.files)));
    }
    // Last, so that a database in place means a restore that finished.
    std::fs::rename(&staged, &database).map_err(io(format!("cannot write {}", database.display())))?;
    Ok(manifest)
}

fn restore_master_key(config: &Config, key: &[u8]) -> Result<(), BackupError> {
    if config.master_key.is_some() {
        tracing::warn!("BASIC_MASTER_KEY is set: the master key in the backup is not written");
        return Ok(());
    }
    let path = config.data_dir.join(master_key::FILE_NAME);
    match std::fs::read(&path) {
        Ok(existing) if existing == key => return Ok(()),
        Ok(_) => {
            return Err(BackupError::Refused(format!(
                "{} holds another master key: restore into an empty data folder",
                path.display()
            )));
        }
        Err(_) => {}
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(io(format!("cannot write {}", path.display())))?;
    file.write_all(key).and_then(|()| file.sync_all()).map_err(io(format!("cannot write {}", path.display())))
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn snapshots_are_made_in_a_folder_only_the_owner_enters() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("backup.tar.gz.snapshot");
        super::private_folder(&folder).unwrap();
        assert_eq!(std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
    }
}
