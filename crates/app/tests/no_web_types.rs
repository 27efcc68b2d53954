//! The use-case layer knows nothing of HTTP: its sources name no web
//! framework or HTTP type, and it depends on no web crate. Cargo already
//! keeps axum out; this also catches HTTP types reached through other crates
//! (reqwest re-exports `http`'s) and the server's own types by name.

use std::path::Path;

const FORBIDDEN_WORDS: [&str; 6] = ["axum", "http::", "StatusCode", "ApiError", "AppState", "IntoResponse"];
const FORBIDDEN_CRATES: [&str; 6] = ["axum", "http", "hyper", "tower", "tower-http", "basic-admin-server"];

fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("the source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file");
            found.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn no_source_names_a_web_type() {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    assert!(files.len() > 20, "the sources were found");
    let offences: Vec<String> = files
        .iter()
        .flat_map(|(path, text)| {
            text.lines().enumerate().filter_map(move |(n, line)| {
                let word = FORBIDDEN_WORDS.iter().find(|w| line.contains(*w))?;
                Some(format!("{path}:{}: {word}", n + 1))
            })
        })
        .collect();
    assert!(offences.is_empty(), "web types in the use-case layer:\n{}", offences.join("\n"));
}

#[test]
fn no_web_crate_is_a_dependency() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    let manifest: toml::Table = manifest.parse().expect("Cargo.toml parses");
    for section in ["dependencies", "dev-dependencies"] {
        let Some(deps) = manifest.get(section).and_then(|d| d.as_table()) else { continue };
        for name in FORBIDDEN_CRATES {
            assert!(!deps.contains_key(name), "{name} is a {section} entry of the use-case layer");
        }
    }
}
