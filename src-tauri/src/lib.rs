//! The Tauri 2 shell of the Ilot patient app: opens the patient's store, exposes typed commands
//! over the Ilot crates to the `ui/` front end, seeds demo data on request, and keeps the app's
//! preferences and PIN lock, enrols the device and runs the background sync loop and the
//! scheduled rules (reminders, missed insulin) as desktop notifications. It holds no
//! business rule: values are validated by `ilot-domain`, judged by `ilot-rules`, kept by
//! `ilot-store`, sent and received by `ilot-sync`. Mobile-ready: `run` is the mobile entry point
//! too, and nothing in the core paths is desktop-only.

mod catalogue;
mod commands;
pub mod demo;
mod error;
pub mod gather;
mod input;
mod pin;
mod reminders;
mod settings;
mod state;
mod sync;
mod views;

use tauri::Manager;

pub use error::{Error, Result};
pub use state::AppState;

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ILOT_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let builder = tauri::Builder::default();
    // First plugin, so a second launch stops before opening anything: its `ilot://enrol` link
    // goes to the running window (through the deep-link plugin's open-url event), which comes
    // to the front; no second window, no second store connection.
    #[cfg(desktop)]
    let builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    }));
    builder
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        // `ilot://enrol?…` invites (the QR code on the care team's sheet) open the app on the
        // enrolment form, filled in; the patient still confirms.
        .plugin(tauri_plugin_deep_link::init())
        .setup(|app| {
            let dir = app.path().app_data_dir()?;
            let state = AppState::open(&dir)?;
            if state.demo {
                seed_demo(&state)?;
            }
            app.manage(state);
            app.manage(commands::setup::Attempts::default());
            commands::sync::spawn_loop(app.handle().clone())?;
            reminders::spawn_loop(app.handle().clone())?;
            commands::devices::spawn_auto_download(app.handle().clone())?;
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::setup::app_info,
            commands::setup::set_language,
            commands::setup::set_text_scale,
            commands::setup::set_unit,
            commands::setup::finish_onboarding,
            commands::setup::unlock,
            commands::setup::lock,
            commands::setup::change_pin,
            commands::setup::give_consent,
            commands::setup::withdraw_consent,
            commands::setup::delete_local_data,
            commands::home::home,
            commands::home::alert_done,
            commands::home::alerts_notified,
            commands::entries::add_entry,
            commands::entries::correct_entry,
            commands::entries::delete_entry,
            commands::entries::entry,
            commands::entries::entry_history,
            commands::entries::logbook,
            commands::reports::report,
            commands::report_pdf::report_pdf,
            commands::reports::day,
            commands::reports::series,
            commands::reports::prescription,
            commands::reports::observance_view,
            commands::export::export_csv,
            commands::export::export_fhir,
            commands::import::import_preview,
            commands::import::import_commit,
            commands::export::export_fhir_feed,
            commands::devices::devices,
            commands::devices::scan_devices,
            commands::devices::pair_device,
            commands::devices::forget_device,
            commands::devices::download_device,
            commands::sync::enrol,
            commands::sync::sync_now,
            commands::sync::sync_status,
            commands::sync::inbox,
            commands::sync::messages_read,
            commands::rights::rights,
        ])
        .run(tauri::generate_context!("tauri.conf.json"))
        .expect("error while running the Ilot app");
}

fn seed_demo(state: &AppState) -> Result<()> {
    let days = std::env::var("ILOT_DEMO_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(demo::DEFAULT_DAYS);
    let mut store = state.store_unchecked()?;
    let started = std::time::Instant::now();
    let added = demo::seed_if_empty(&mut store, chrono::Utc::now(), days)?;
    if added > 0 {
        tracing::warn!(
            added,
            days,
            ms = started.elapsed().as_millis() as u64,
            "demo data seeded"
        );
    }
    Ok(())
}
