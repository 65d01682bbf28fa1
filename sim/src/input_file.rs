//! Reading the files a user hands faasim (scenarios, stack files, Helm values, environment
//! files, standard input) with limits: only regular files are opened, and no more than
//! `MAX_INPUT_BYTES` is read, so `/dev/zero`, `/dev/urandom`, a FIFO or a directory gets a clear
//! error instead of filling memory or blocking for ever.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The most faasim reads of one input. The largest real file in the check corpus is the Helm
/// chart's `values.yaml` at 14 KiB, and a stack of 10 000 functions is under 2 MiB; 16 MiB leaves room for any
/// hand-written or generated configuration while bounding memory at a small multiple of it.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Why an input could not be read.
#[derive(Debug)]
pub enum InputFileError {
    /// It exists but is not a regular file (a directory, a FIFO, a device, a socket).
    NotAFile(&'static str),
    /// It holds more than `MAX_INPUT_BYTES`.
    TooLarge,
    /// It is not UTF-8 text: where the first byte that is not is (1-based line, and column in
    /// characters).
    NotText {
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column, in characters, of the first invalid byte.
        column: usize,
    },
    /// The operating system refused (missing, no permission, an I/O error).
    Io(std::io::Error),
}

impl fmt::Display for InputFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputFileError::NotAFile(kind) => write!(f, "is {kind}, not a regular file"),
            InputFileError::TooLarge => write!(
                f,
                "is larger than {} MiB, more than any configuration file faasim reads",
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
            InputFileError::NotText { line, column } => write!(
                f,
                "is not UTF-8 text (the first byte that is not is at line {line}, column {column})"
            ),
            InputFileError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for InputFileError {}

/// What kind of thing `meta` describes, in words, when it is not a regular file.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// The text of the regular file at `path`, at most `MAX_INPUT_BYTES`. The file's kind is
/// checked before it is opened: opening a FIFO would block until a writer came.
pub fn read_text(path: &Path) -> Result<String, InputFileError> {
    let meta = std::fs::metadata(path).map_err(InputFileError::Io)?;
    if !meta.is_file() {
        return Err(InputFileError::NotAFile(kind_of(&meta)));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(InputFileError::TooLarge);
    }
    let file = std::fs::File::open(path).map_err(InputFileError::Io)?;
    read_bounded(file)
}

/// At most `MAX_INPUT_BYTES` of `reader` (standard input, a file) as text. A file that grows
/// while it is read is still cut at the limit.
pub fn read_bounded(reader: impl Read) -> Result<String, InputFileError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(InputFileError::Io)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(InputFileError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        // The valid prefix is text: count lines and characters in it, not bytes.
        let text = std::str::from_utf8(valid).unwrap_or_default();
        let line_start = text.rfind('\n').map_or(0, |at| at + 1);
        InputFileError::NotText {
            line: text.matches('\n').count() + 1,
            column: text[line_start..].chars().count() + 1,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read() {
        let dir = std::env::temp_dir().join(format!("faasim-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("a.yaml");
        std::fs::write(&path, "name: x\n").unwrap();
        assert_eq!(read_text(&path).unwrap(), "name: x\n");
        let error = read_text(&dir).unwrap_err();
        assert_eq!(error.to_string(), "is a directory, not a regular file");
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_text(&path),
            Err(InputFileError::NotText { line: 1, column: 1 })
        ));
        std::fs::write(&path, b"a: 1\nb: \xc3\xa9\xff\n").unwrap();
        assert_eq!(
            read_text(&path).unwrap_err().to_string(),
            "is not UTF-8 text (the first byte that is not is at line 2, column 5)"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused_before_they_are_read() {
        for device in ["/dev/zero", "/dev/urandom"] {
            if Path::new(device).exists() {
                let error = read_text(Path::new(device)).unwrap_err();
                assert_eq!(error.to_string(), "is a device, not a regular file");
            }
        }
    }

    #[test]
    fn an_endless_stream_stops_at_the_limit() {
        let error = read_bounded(std::io::repeat(b'a')).unwrap_err();
        assert!(matches!(error, InputFileError::TooLarge));
        assert_eq!(read_bounded(&b"ok"[..]).unwrap(), "ok");
    }
}
