//! Writing the overlay source of `dtregion new`.

use std::fmt::Write;

use heap_rules::size::format_size;
use heap_rules::Cells;

/// What goes into a new overlay.
#[derive(Clone, Debug)]
pub struct NewOverlay<'a> {
    /// Board key in the table.
    pub key: &'a str,
    /// The board's name.
    pub board_name: &'a str,
    /// The board's compatible: the overlay's root `compatible`, so that it cannot be applied to
    /// another board's tree unnoticed.
    pub compatible: &'a str,
    /// The region's name before its unit address.
    pub name: &'a str,
    /// Base address.
    pub base: u64,
    /// Size.
    pub size: u64,
    /// Cells of `/reserved-memory` (or of the root when the tree has no `/reserved-memory`).
    pub cells: Cells,
    /// Whether the base tree has `/reserved-memory`; if not, the overlay creates it.
    pub has_reserved_memory: bool,
    /// How the base was chosen (a paragraph, wrapped here).
    pub placement: String,
}

/// `text` as comment lines of at most 72 columns.
fn comment(s: &mut String, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 72 {
            let _ = writeln!(s, " * {line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(s, " * {line}");
    }
}

fn cells(value: u64, n: u32) -> String {
    if n == 2 {
        format!("{:#x} {:#x}", value >> 32, value & 0xffff_ffff)
    } else {
        format!("{value:#x}")
    }
}

/// The node name of the new region: its name and unit address, which is also the heap's name
/// (`/dev/dma_heap/<node name>`).
pub fn node_name(name: &str, base: u64) -> String {
    format!("{name}@{base:x}")
}

/// The `.dtso` text.
pub fn render(o: &NewOverlay<'_>) -> String {
    let mut s = String::new();
    let node = node_name(o.name, o.base);
    let reg = format!(
        "{} {}",
        cells(o.base, o.cells.address),
        cells(o.size, o.cells.size)
    );
    s.push_str("// SPDX-License-Identifier: (GPL-2.0-only OR MIT)\n/*\n");
    comment(
        &mut s,
        &format!(
            "{node}: {} coherent dma-buf heap region for the {} ({}), written by `dtregion new`. The heap is /dev/dma_heap/{node}: the coherent heap driver names a heap after the region's full node name, unit address included.",
            format_size(o.size),
            o.board_name,
            o.key,
        ),
    );
    s.push_str(" *\n");
    comment(&mut s, &o.placement);
    s.push_str(" *\n");
    comment(
        &mut s,
        "no-map: the heap maps the pool write-combined with memremap(), which refuses System RAM; without no-map the region stays in the kernel's linear map and the driver refuses it (dts/README.md).",
    );
    s.push_str(" */\n\n");
    s.push_str("/dts-v1/;\n/plugin/;\n\n");
    let _ = writeln!(
        s,
        "/* Not merged by fdtoverlay: dtregion check compares it with the base tree. */\n/ {{\n\tcompatible = \"{}\";\n}};\n",
        o.compatible
    );
    let body = format!(
        "{node} {{\n\tcompatible = \"shared-dma-pool\";\n\treg = <{reg}>;\n\tno-map;\n\tlinux,dma-heap;\n}};\n"
    );
    let indent = if o.has_reserved_memory {
        s.push_str("&{/reserved-memory} {\n");
        "\t"
    } else {
        // /reserved-memory takes the root's cells, repeated here for dtc.
        let _ = writeln!(
            s,
            "&{{/}} {{\n\t#address-cells = <{}>;\n\t#size-cells = <{}>;\n\n\treserved-memory {{",
            o.cells.address, o.cells.size
        );
        "\t\t"
    };
    // The cells repeat the base tree's, so that dtc can check reg against them.
    let _ = writeln!(
        s,
        "{indent}#address-cells = <{}>;\n{indent}#size-cells = <{}>;",
        o.cells.address, o.cells.size
    );
    if !o.has_reserved_memory {
        let _ = writeln!(s, "{indent}ranges;");
    }
    s.push('\n');
    for line in body.lines() {
        let _ = writeln!(s, "{indent}{line}");
    }
    if !o.has_reserved_memory {
        s.push_str("\t};\n");
    }
    s.push_str("};\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_for_a_tree_with_reserved_memory() {
        let text = render(&NewOverlay {
            key: "acme",
            board_name: "ACME board",
            compatible: "acme,board",
            name: "camera",
            base: 0x1_2000_0000,
            size: 0x400_0000,
            cells: Cells {
                address: 2,
                size: 1,
            },
            has_reserved_memory: true,
            placement: "Placed at the requested base.".into(),
        });
        assert!(text.contains("&{/reserved-memory} {\n\t#address-cells = <2>;\n\t#size-cells = <1>;\n\n\tcamera@120000000 {\n"));
        assert!(text
            .contains("\t\treg = <0x1 0x20000000 0x4000000>;\n\t\tno-map;\n\t\tlinux,dma-heap;\n"));
        assert!(text.contains("\tcompatible = \"acme,board\";\n"));
        assert!(text.contains(" * Placed at the requested base.\n"));
        assert!(
            text.contains(" * camera@120000000: 64 MiB coherent dma-buf heap region for the ACME board\n * (acme), written by `dtregion new`. The heap is\n * /dev/dma_heap/camera@120000000: "),
            "{text}"
        );
    }

    #[test]
    fn overlay_that_creates_reserved_memory() {
        let text = render(&NewOverlay {
            key: "qemu-virt",
            board_name: "QEMU virt",
            compatible: "linux,dummy-virt",
            name: "camera",
            base: 0x7000_0000,
            size: 0x400_0000,
            cells: Cells {
                address: 2,
                size: 2,
            },
            has_reserved_memory: false,
            placement: String::new(),
        });
        assert!(text.contains("&{/} {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\n\treserved-memory {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n\n\t\tcamera@70000000 {\n"));
        assert!(text.contains("\t\t\treg = <0x0 0x70000000 0x0 0x4000000>;\n"));
        assert!(text.ends_with("\t};\n};\n"));
    }
}
