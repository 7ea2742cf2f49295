//! Embeds the care team's console (`console/dist`, built by `scripts/build-console.sh` with
//! Node) into the server binary through `rust-embed`. Building the server must not need Node:
//! without `console/dist` the server still builds and serves a "console not built" page at `/`.
//! This script only tells Cargo when to embed again.

fn main() {
    let dist = std::path::Path::new("console/dist");
    if dist.join("index.html").is_file() {
        // Any new, changed or removed file of the build re-embeds.
        println!("cargo:rerun-if-changed=console/dist");
    } else {
        // Not built yet: watch the folder the build will appear in (small without
        // node_modules), so that the first `npm run build` is picked up.
        println!("cargo:rerun-if-changed=console");
        println!(
            "cargo:warning=console/dist is missing: `ilot server` will answer / with a \"console not built\" page (build it with scripts/build-console.sh)"
        );
    }
    println!("cargo:rerun-if-changed=build.rs");
}
