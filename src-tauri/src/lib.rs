//! The Tauri 2 shell of the Ilot patient app: opens the patient's store, exposes typed commands
//! over the Ilot crates to the `ui/` front end, and runs the background tasks. It holds no
//! business rule: values are validated by `ilot-domain`, judged by `ilot-rules`, kept by
//! `ilot-store`. Mobile-ready: `run` is the mobile entry point too.

mod commands;
mod error;
mod state;

use tauri::Manager;

pub use error::{Error, Result};

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ILOT_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            let state = state::AppState::open(&dir)?;
            app.manage(state);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::home, commands::add_glucose])
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("error while running the Ilot app");
}
