//! The blob store: files stored once, named by their sha256.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::StoreError;
use crate::domain::AssetId;

/// Files stored once, named by their sha256: `blobs/ab/abcdef….ext`.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
    tmp: PathBuf,
}

pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

fn clean_ext(ext: &str) -> String {
    let e: String = ext.trim_start_matches('.').chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if e.is_empty() {
        "bin".into()
    } else {
        e.to_ascii_lowercase()
    }
}

impl BlobStore {
    pub fn open(data_dir: &Path) -> Result<BlobStore, StoreError> {
        let root = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        fs::create_dir_all(&root)?;
        fs::create_dir_all(&tmp)?;
        Ok(BlobStore { root, tmp })
    }

    /// A scratch directory on the same filesystem as the blobs (so `adopt` is a rename).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    pub fn path(&self, id: &AssetId) -> PathBuf {
        self.root.join(&id.sha256[..2]).join(format!("{}.{}", id.sha256, id.ext))
    }

    pub fn contains(&self, id: &AssetId) -> bool {
        self.path(id).is_file()
    }

    /// Path of a blob that must exist.
    pub fn existing(&self, id: &AssetId) -> Result<PathBuf, StoreError> {
        let p = self.path(id);
        if p.is_file() {
            Ok(p)
        } else {
            Err(StoreError::MissingBlob(id.to_string()))
        }
    }

    /// Move a finished file into the store (the file is consumed).
    pub fn adopt(&self, file: &Path, ext: &str) -> Result<AssetId, StoreError> {
        let id = AssetId { sha256: sha256_file(file)?, ext: clean_ext(ext) };
        let dest = self.path(&id);
        if dest.is_file() {
            fs::remove_file(file)?;
            return Ok(id);
        }
        fs::create_dir_all(dest.parent().unwrap_or(&self.root))?;
        if fs::rename(file, &dest).is_err() {
            // Different filesystem: copy to a temp name beside the destination, then rename.
            let part = dest.with_extension("part");
            fs::copy(file, &part)?;
            fs::rename(&part, &dest)?;
            fs::remove_file(file)?;
        }
        Ok(id)
    }

    /// Copy a user's file into the store (the original is left alone).
    pub fn import(&self, file: &Path) -> Result<AssetId, StoreError> {
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("bin");
        let tmp = self.tmp.join(format!("import-{}", uuid::Uuid::new_v4().simple()));
        fs::copy(file, &tmp)?;
        self.adopt(&tmp, ext)
    }

    pub fn put_bytes(&self, bytes: &[u8], ext: &str) -> Result<AssetId, StoreError> {
        let tmp = self.tmp.join(format!("bytes-{}", uuid::Uuid::new_v4().simple()));
        fs::write(&tmp, bytes)?;
        self.adopt(&tmp, ext)
    }
}
