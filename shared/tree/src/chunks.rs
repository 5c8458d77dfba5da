//! Cutting a laid-out tree into square chunks so the client can stream a large tree.
//!
//! A chunk `(cx, cy)` is the half-open square `[cx*S, (cx+1)*S) × [cy*S, (cy+1)*S)`; a point
//! belongs to the chunk `(floor(x/S), floor(y/S))`, so negative coordinates give negative
//! chunks. A node belongs to the chunk of its position; an edge to every chunk containing a
//! point of its segment (computed exactly, not by sampling).

use std::collections::HashMap;

use super::{Edge, Tree};

/// Side of a chunk in layout units.
pub const CHUNK_SIZE: f64 = 2048.0;
/// Margin around the positions in the world bounds.
pub const WORLD_PADDING: f64 = CHUNK_SIZE * 0.1;

/// Chunk coordinates.
pub type ChunkId = (i64, i64);

/// The chunk of a point.
pub fn chunk_of(p: [f64; 2], size: f64) -> ChunkId {
    ((p[0] / size).floor() as i64, (p[1] / size).floor() as i64)
}

/// `[min_x, min_y, max_x, max_y]` over the positions, padded by [`WORLD_PADDING`];
/// `[0, 0, 0, 0]` when there are none.
pub fn world_bounds(positions: &[[f64; 2]]) -> [f64; 4] {
    let Some(first) = positions.first() else {
        return [0.0; 4];
    };
    let mut b = [first[0], first[1], first[0], first[1]];
    for p in positions {
        b[0] = b[0].min(p[0]);
        b[1] = b[1].min(p[1]);
        b[2] = b[2].max(p[0]);
        b[3] = b[3].max(p[1]);
    }
    [
        b[0] - WORLD_PADDING,
        b[1] - WORLD_PADDING,
        b[2] + WORLD_PADDING,
        b[3] + WORLD_PADDING,
    ]
}

/// The cells `first..=last` covered by an x interval from `lo` (reached) to `hi`, where `hi`
/// itself is reached only if `hi_closed`.
fn cells(lo: f64, hi: f64, hi_closed: bool, size: f64) -> (i64, i64) {
    let first = (lo / size).floor() as i64;
    let last = if hi_closed || hi <= lo {
        (hi / size).floor() as i64
    } else {
        (hi / size).ceil() as i64 - 1
    };
    (first, last.max(first))
}

/// Every chunk containing a point of the segment `a`–`b`, sorted by (x, y).
pub fn segment_chunks(a: [f64; 2], b: [f64; 2], size: f64) -> Vec<ChunkId> {
    let mut out = Vec::new();
    // Walk from the lower y to the higher y.
    let (p, q) = if a[1] <= b[1] { (a, b) } else { (b, a) };
    let (dx, dy) = (q[0] - p[0], q[1] - p[1]);
    let first_row = (p[1] / size).floor() as i64;
    let last_row = (q[1] / size).floor() as i64;
    for row in first_row..=last_row {
        let row_lo = row as f64 * size;
        let row_hi = (row + 1) as f64 * size;
        // The part of the segment with row_lo <= y < row_hi, as y from ya (reached) to yb.
        let ya = p[1].max(row_lo);
        let (yb, yb_closed) = if q[1] < row_hi {
            (q[1], true)
        } else {
            (row_hi, false)
        };
        let x_at = |y: f64| {
            if y == p[1] {
                p[0]
            } else if y == q[1] {
                q[0]
            } else {
                p[0] + (y - p[1]) * dx / dy
            }
        };
        let (xa, xb) = if dy == 0.0 {
            (p[0], q[0])
        } else {
            (x_at(ya), x_at(yb))
        };
        let closed = dy == 0.0 || yb_closed;
        let (first, last) = if xa <= xb {
            cells(xa, xb, closed, size)
        } else {
            // x decreases as y grows: the far end (xb) is the low x, and points just above
            // an open low end still fall in its floor cell.
            cells(xb, xa, true, size)
        };
        for cx in first..=last {
            out.push((cx, row));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// One chunk's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkInfo {
    pub x: i64,
    pub y: i64,
    pub node_count: usize,
    pub edge_count: usize,
}

/// Every non-empty chunk with its node and edge counts, sorted by (x, y).
pub fn chunk_metadata(tree: &Tree, positions: &[[f64; 2]], size: f64) -> Vec<ChunkInfo> {
    let mut counts: HashMap<ChunkId, (usize, usize)> = HashMap::new();
    for p in positions.iter().take(tree.nodes.len()) {
        counts.entry(chunk_of(*p, size)).or_default().0 += 1;
    }
    for e in tree.edges() {
        for c in segment_chunks(positions[e.source], positions[e.target], size) {
            counts.entry(c).or_default().1 += 1;
        }
    }
    let mut out: Vec<ChunkInfo> = counts
        .into_iter()
        .map(|((x, y), (node_count, edge_count))| ChunkInfo {
            x,
            y,
            node_count,
            edge_count,
        })
        .collect();
    out.sort_unstable_by_key(|c| (c.x, c.y));
    out
}

/// The nodes (indexes, in tree order) and edges (in tree order) of one chunk.
pub fn chunk_members(
    tree: &Tree,
    positions: &[[f64; 2]],
    size: f64,
    chunk: ChunkId,
) -> (Vec<usize>, Vec<Edge>) {
    let nodes = (0..tree.nodes.len())
        .filter(|&i| chunk_of(positions[i], size) == chunk)
        .collect();
    let (lo_x, lo_y) = (chunk.0 as f64 * size, chunk.1 as f64 * size);
    let (hi_x, hi_y) = (lo_x + size, lo_y + size);
    let edges = tree
        .edges()
        .filter(|e| {
            let (a, b) = (positions[e.source], positions[e.target]);
            // Cheap rejection by bounding box before the exact test.
            if a[0].max(b[0]) < lo_x
                || a[0].min(b[0]) >= hi_x
                || a[1].max(b[1]) < lo_y
                || a[1].min(b[1]) >= hi_y
            {
                return false;
            }
            segment_chunks(a, b, size).binary_search(&chunk).is_ok()
        })
        .collect();
    (nodes, edges)
}
