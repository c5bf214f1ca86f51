//! Just enough of a flattened-device-tree (DTB) reader to list the children
//! of one node in their order in the blob.

const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

fn be32_at(blob: &[u8], off: usize) -> Result<u32, String> {
    blob.get(off..off + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| format!("truncated at offset {off}"))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Names of the children of the node at `path` (e.g. `/reserved-memory`),
/// in blob order. Unit addresses are part of the names.
pub fn child_names(blob: &[u8], path: &str) -> Result<Vec<String>, String> {
    if be32_at(blob, 0)? != FDT_MAGIC {
        return Err("bad magic".into());
    }
    let total = be32_at(blob, 4)? as usize;
    let off_struct = be32_at(blob, 8)? as usize;
    let blob = blob.get(..total).ok_or("totalsize exceeds blob")?;
    let want: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();

    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut off = off_struct;
    loop {
        let token = be32_at(blob, off)?;
        off += 4;
        match token {
            FDT_BEGIN_NODE => {
                let rest = blob.get(off..).ok_or("truncated node name")?;
                let len = rest
                    .iter()
                    .position(|&b| b == 0)
                    .ok_or("unterminated node name")?;
                let name = String::from_utf8_lossy(&rest[..len]).into_owned();
                off += align4(len + 1);
                // stack[0] is the root (empty name); stack[1..] is the path.
                if stack.len() == want.len() + 1
                    && stack[1..]
                        .iter()
                        .map(String::as_str)
                        .eq(want.iter().copied())
                {
                    out.push(name.clone());
                }
                stack.push(name);
            }
            FDT_END_NODE => {
                stack.pop().ok_or("unbalanced FDT_END_NODE")?;
            }
            FDT_PROP => {
                let len = be32_at(blob, off)? as usize;
                off += 8 + align4(len);
            }
            FDT_NOP => {}
            FDT_END => return Ok(out),
            t => return Err(format!("unknown token {t:#x} at offset {}", off - 4)),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A DTB whose structure block is `nodes`: `(name, true)` opens a node
    /// (the root is `("", true)`), `(_, false)` closes one. Every node gets
    /// a dummy property so the reader has to skip it.
    pub(crate) fn build(nodes: &[(&str, bool)]) -> Vec<u8> {
        let mut st = Vec::new();
        for (name, begin) in nodes {
            if *begin {
                st.extend(FDT_BEGIN_NODE.to_be_bytes());
                st.extend(name.as_bytes());
                st.push(0);
                while st.len() % 4 != 0 {
                    st.push(0);
                }
                st.extend(FDT_PROP.to_be_bytes());
                st.extend(5u32.to_be_bytes());
                st.extend(0u32.to_be_bytes());
                st.extend(b"abcd\0\0\0\0");
                st.extend(FDT_NOP.to_be_bytes());
            } else {
                st.extend(FDT_END_NODE.to_be_bytes());
            }
        }
        st.extend(FDT_END.to_be_bytes());
        let strings = b"x\0";
        let off_struct = 40u32;
        let off_strings = off_struct + st.len() as u32;
        let total = off_strings + strings.len() as u32;
        let mut blob = Vec::new();
        for v in [
            FDT_MAGIC,
            total,
            off_struct,
            off_strings,
            40,
            17,
            16,
            0,
            strings.len() as u32,
            st.len() as u32,
        ] {
            blob.extend(v.to_be_bytes());
        }
        blob.extend(st);
        blob.extend(strings);
        blob
    }

    #[test]
    fn lists_children_in_blob_order() {
        let blob = build(&[
            ("", true),
            ("cpus", true),
            ("cpu@0", true),
            ("", false),
            ("", false),
            ("reserved-memory", true),
            ("zeta@1000", true),
            ("inner", true),
            ("", false),
            ("", false),
            ("alpha@2000", true),
            ("", false),
            ("", false),
            ("", false),
        ]);
        assert_eq!(
            child_names(&blob, "/reserved-memory").unwrap(),
            ["zeta@1000", "alpha@2000"]
        );
        assert_eq!(
            child_names(&blob, "/").unwrap(),
            ["cpus", "reserved-memory"]
        );
        assert!(child_names(&blob, "/nope").unwrap().is_empty());
    }

    #[test]
    fn rejects_garbage() {
        assert!(child_names(b"\0\0\0\0", "/").is_err());
        assert!(child_names(&[], "/").is_err());
        let mut blob = build(&[("", true), ("", false)]);
        blob.truncate(44);
        assert!(child_names(&blob, "/").is_err());
    }
}
