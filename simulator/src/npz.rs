//! `.npz` archives (zip files of `.npy` members, stored or deflate-compressed).

use crate::TrajectoryError;
use crate::npy::NpyArray;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// All arrays of an `.npz` file, by name (without the `.npy` suffix).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Npz {
    /// The arrays.
    pub arrays: BTreeMap<String, NpyArray>,
}

fn io_error(path: &Path, source: std::io::Error) -> TrajectoryError {
    TrajectoryError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Npz {
    /// Reads every `.npy` member of the archive at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, TrajectoryError> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
        let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))?;
        let mut arrays = BTreeMap::new();
        for i in 0..archive.len() {
            let mut member = archive.by_index(i)?;
            let full = member.name()?.to_string();
            let Some(name) = full.strip_suffix(".npy").map(str::to_string) else {
                continue;
            };
            // The declared size only sizes the first allocation (capped: it is untrusted).
            let mut bytes = Vec::with_capacity(member.size().min(1 << 28) as usize);
            member
                .read_to_end(&mut bytes)
                .map_err(|e| io_error(path, e))?;
            arrays.insert(name.clone(), NpyArray::parse(&name, &bytes)?);
        }
        Ok(Self { arrays })
    }

    /// Writes the arrays as an uncompressed `.npz` that `numpy.load` reads.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), TrajectoryError> {
        let path = path.as_ref();
        let file = std::fs::File::create(path).map_err(|e| io_error(path, e))?;
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        for (name, array) in &self.arrays {
            zip.start_file(format!("{name}.npy"), options)?;
            zip.write_all(&array.to_bytes())
                .map_err(|e| io_error(path, e))?;
        }
        let mut inner = zip.finish()?;
        inner.flush().map_err(|e| io_error(path, e))?;
        Ok(())
    }

    /// The array `name`, or [`TrajectoryError::MissingArray`].
    pub fn get(&self, name: &str) -> Result<&NpyArray, TrajectoryError> {
        self.arrays
            .get(name)
            .ok_or_else(|| TrajectoryError::MissingArray(name.to_string()))
    }
}
