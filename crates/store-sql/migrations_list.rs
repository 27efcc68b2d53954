// Included by the build scripts of the SQL backends: writes the list of the
// crate's migrations (`migrations/NNNN_name.sql`, in order) for
// `include!`, so that no list is kept by hand and a new file is picked up.

fn write_migrations_list() {
    let folder = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("migrations");
    println!("cargo:rerun-if-changed={}", folder.display());
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("a migrations folder")
        .map(|entry| entry.expect("a readable folder").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut list = String::from("&[\n");
    for (index, path) in files.iter().enumerate() {
        let stem = path.file_stem().unwrap().to_str().expect("a UTF-8 name");
        let (number, name) = stem.split_once('_').expect("NNNN_name.sql");
        let version: i64 = number.parse().expect("a numbered migration");
        assert_eq!(version, index as i64 + 1, "migrations are numbered 1, 2, 3… without gaps: {stem}");
        let description = name.replace('_', " ");
        list.push_str(&format!("    ({version}, {description:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    list.push(']');
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(out, list).expect("OUT_DIR is writable");
}
