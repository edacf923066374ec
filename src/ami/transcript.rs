//! Reader of recorded AMI sessions (the transcript format of the test fixtures): annotation lines
//! start with `## `, every chunk is `@@ S>C conn=NAME t=SECONDS len=N`, then exactly N raw bytes,
//! then one `\n`. Used by tests, benchmarks and the simulator's fidelity checks.

/// Which way a chunk travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Asterisk → client.
    ServerToClient,
    /// Client → Asterisk.
    ClientToServer,
}

/// One recorded chunk.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// Direction.
    pub direction: Direction,
    /// Connection name.
    pub conn: String,
    /// Seconds since the capture started.
    pub t: f64,
    /// The raw bytes.
    pub bytes: Vec<u8>,
}

/// A transcript that does not follow the format.
#[derive(Debug, thiserror::Error)]
#[error("malformed transcript at byte {offset}: {what}")]
pub struct TranscriptError {
    /// Where.
    pub offset: usize,
    /// What.
    pub what: &'static str,
}

/// Parses a whole transcript into its chunks.
pub fn parse(data: &[u8]) -> Result<Vec<Chunk>, TranscriptError> {
    let mut chunks = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let nl = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |n| pos + n);
        let line = &data[pos..nl];
        if line.starts_with(b"## ") || line.is_empty() {
            pos = nl + 1;
            continue;
        }
        let err = |what| TranscriptError { offset: pos, what };
        let header = std::str::from_utf8(line).map_err(|_| err("header is not UTF-8"))?;
        let mut parts = header.split(' ');
        if parts.next() != Some("@@") {
            return Err(err("expected '@@' or '## '"));
        }
        let direction = match parts.next() {
            Some("S>C") => Direction::ServerToClient,
            Some("C>S") => Direction::ClientToServer,
            _ => return Err(err("bad direction")),
        };
        let mut conn = None;
        let mut t = None;
        let mut len = None;
        for p in parts {
            if let Some(v) = p.strip_prefix("conn=") {
                conn = Some(v.to_owned());
            } else if let Some(v) = p.strip_prefix("t=") {
                t = v.parse::<f64>().ok();
            } else if let Some(v) = p.strip_prefix("len=") {
                len = v.parse::<usize>().ok();
            }
        }
        let (Some(conn), Some(t), Some(len)) = (conn, t, len) else {
            return Err(err("header lacks conn, t or len"));
        };
        let start = nl + 1;
        let end = start + len;
        if end > data.len() {
            return Err(err("chunk runs past the end"));
        }
        chunks.push(Chunk {
            direction,
            conn,
            t,
            bytes: data[start..end].to_vec(),
        });
        pos = end + 1;
    }
    Ok(chunks)
}

/// The concatenated bytes of one connection in one direction.
pub fn stream(chunks: &[Chunk], conn: &str, direction: Direction) -> Vec<u8> {
    chunks
        .iter()
        .filter(|c| c.conn == conn && c.direction == direction)
        .flat_map(|c| c.bytes.iter().copied())
        .collect()
}
