fn main() {
    // tauri.conf.json sits at the repository root (design card); the capabilities stay with the
    // shell's sources.
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    tauri_build::try_build(attributes).expect("failed to run the Tauri build script");
}
