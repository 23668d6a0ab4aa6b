//! Every protocol reference resolves inside the repository: doc comments cite a section of
//! `docs/protocol.md` by its number, and each cited section exists there.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Rust and Markdown files of the project, outside `target/`.
fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            sources(&path, found);
        } else if name.ends_with(".rs") || name.ends_with(".md") || name.ends_with(".stderr") {
            found.push(path);
        }
    }
}

/// The section numbers `docs/protocol.md` has headings for: `## 7.`, `### 4.5`, `#### 3.5a`.
fn sections() -> Vec<String> {
    let page = std::fs::read_to_string(root().join("docs/protocol.md")).unwrap();
    page.lines()
        .filter(|line| line.starts_with('#'))
        .filter_map(|line| line.trim_start_matches('#').split_whitespace().next())
        .map(|number| number.trim_end_matches('.').to_owned())
        .filter(|number| number.starts_with(|c: char| c.is_ascii_digit()))
        .collect()
}

/// The sections a citation names: `§1.3`, `§3.2–§3.4`, `§3.6, §8` (read up to the first
/// word that is not a section).
fn cited(after: &str) -> Vec<String> {
    let mut numbers = Vec::new();
    for word in after.split([' ', ',', '–', '(', ')', ';']) {
        if word.is_empty() {
            continue;
        }
        let Some(number) = word.strip_prefix('§') else {
            break;
        };
        let number = number.trim_end_matches(['.', ':']);
        // "§8 item 4" names a numbered item of §8.
        numbers.push(number.to_owned());
    }
    numbers
}

#[test]
fn every_protocol_citation_names_a_section_of_docs_protocol_md() {
    let sections = sections();
    assert!(sections.len() > 30, "{sections:?}");
    let mut files = Vec::new();
    sources(&root(), &mut files);
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = file.strip_prefix(root()).unwrap().display().to_string();
        // Spelt in two parts, or this file would cite it.
        let outside = concat!("PROTOCOL", ".md");
        assert!(
            !text.contains(outside),
            "{shown} cites {outside}, which is not in the repository: cite docs/protocol.md"
        );
        for (at, _) in text.match_indices(concat!("docs/protocol.md", " §")) {
            let after = &text[at + "docs/protocol.md ".len()..];
            let line = after.lines().next().unwrap_or_default();
            let numbers = cited(line);
            assert!(!numbers.is_empty(), "{shown}: unreadable citation {line:?}");
            for number in numbers {
                assert!(
                    sections.contains(&number),
                    "{shown}: docs/protocol.md has no §{number} (cited as {line:?})"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "only {checked} citations found");
}

/// docs/metrics.md lists every metric the code reports (`xorpay::metrics::METRICS`, the list
/// each report is made from), under both its names, with its unit, every label and every
/// value each label takes; and names no metric that does not exist.
#[test]
fn docs_metrics_md_lists_every_metric_the_code_reports() {
    let page = std::fs::read_to_string(root().join("docs/metrics.md")).unwrap();
    for metric in xorpay::metrics::METRICS {
        let row = page
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", metric.name)))
            .unwrap_or_else(|| panic!("no row for {} in docs/metrics.md", metric.name));
        assert!(
            row.contains(&format!("`{}`", metric.prometheus_name())),
            "{row}"
        );
        if let Some(unit) = metric.unit {
            assert!(row.contains(unit), "{row}");
        }
        for label in metric.labels {
            assert!(row.contains(&format!("`{}`", label.name)), "{row}");
            for value in label.values.iter().filter(|value| **value != "*") {
                assert!(
                    page.contains(&format!("`{value}`")),
                    "label value {value:?} of {} is not on docs/metrics.md",
                    metric.name
                );
            }
        }
    }
    // Every metric the page names exists.
    let names: Vec<&str> = xorpay::metrics::METRICS.iter().map(|m| m.name).collect();
    for row in page.lines().filter(|line| line.starts_with("| `xorpay.")) {
        let name = row.split('`').nth(1).unwrap();
        assert!(
            names.contains(&name),
            "docs/metrics.md names {name}, which is not reported"
        );
    }
    // Its alerting rules are valid rules (promtool, when installed: the README's test
    // command installs it and sets XORPAY_REQUIRE_PROMTOOL).
    let rules = page
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("an alerting rules block");
    let file = std::env::temp_dir().join(format!("xorpay-alerts-{}.yml", std::process::id()));
    std::fs::write(&file, rules).unwrap();
    let checked = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(&file)
        .output();
    let _ = std::fs::remove_file(&file);
    match checked {
        Ok(output) => assert!(
            output.status.success(),
            "promtool check rules:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => assert!(
            std::env::var_os("XORPAY_REQUIRE_PROMTOOL").is_none(),
            "promtool is required: {error}"
        ),
    }
}

/// `docs/performance.md`, which both halves of the README link to, is the page
/// `scripts/bench.sh` writes: every figure the bench measures is on it (each store's notify
/// endpoint with two instances and a recorder on the servers, the scale table on each store),
/// with the machine it was measured on. The page is never edited by hand; this says a run
/// wrote it whole.
#[test]
fn docs_performance_md_holds_every_figure_of_one_bench_run() {
    let page = std::fs::read_to_string(root().join("docs/performance.md")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (english, chinese) = readme.split_once("## 中文").unwrap();
    for half in [english, chinese] {
        assert!(
            half.contains("(docs/performance.md)"),
            "both halves of the README link to the page"
        );
    }
    for needed in [
        "Written by `scripts/bench.sh`",
        "**Machine:**",
        "fsync'd 4 KiB write",
        "signing through the derive",
        "notification parse + verify",
        "`Payments::checkout`",
        "the derive's compile cost",
        "the SQLite store's payment write alone",
        "### SQLite",
        "### PostgreSQL",
        "### MariaDB",
        "two instances, one database, a loopback proxy",
        "Prometheus recorder installed",
        "peak RSS service / bare",
        "#### SQLite",
        "#### PostgreSQL",
        "#### MariaDB",
        "1000000 orders",
        "peak memory (VmHWM)",
    ] {
        assert!(
            page.contains(needed),
            "docs/performance.md lacks {needed:?}"
        );
    }
    // Three stores' notify tables, each at 1, 16 and 64 connections.
    assert_eq!(page.matches("| one instance | 64 |").count(), 3);
    assert_eq!(page.matches("| one instance | 1 |").count(), 3);
}
