//! The one-page AGP report (PDF) from the Charts screen (*Courbes → Rapport PDF*): the same
//! `ilot-report` page as `ilot report --pdf` and the console's, over the period the screen shows,
//! in the app's language, saved where the patient chose in the save dialog (or, without a
//! choice, in the downloads folder).

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use ilot_report::Lang;
use ilot_rules::metrics::Window;
use tauri::{AppHandle, Manager, State};

use crate::error::{Error, Result};
use crate::gather;
use crate::state::{self, AppState};

/// Writes the report of the `days` (1–365) up to now to `path` (or `ilot-rapport-agp-<date>.pdf`
/// in the downloads folder); returns where it went.
#[tauri::command]
pub fn report_pdf(
    app: AppHandle,
    state: State<'_, AppState>,
    days: u32,
    lang: String,
    path: Option<String>,
) -> Result<String> {
    let lang = Lang::parse(&lang).ok_or_else(|| {
        Error::input(
            "unknown-language",
            format!("unknown language {lang:?}: fr or en"),
        )
    })?;
    let target = match path.filter(|p| !p.trim().is_empty()) {
        Some(p) => PathBuf::from(p),
        None => app
            .path()
            .download_dir()
            .or_else(|_| app.path().home_dir())
            .map_err(|e| Error::Io(format!("no downloads folder: {e}")))?
            .join(format!(
                "ilot-rapport-agp-{}.pdf",
                Utc::now().format("%Y-%m-%d")
            )),
    };
    report_pdf_at(&state, days, lang, &target, Utc::now())?;
    tracing::info!(path = %target.display(), "AGP report written");
    Ok(target.display().to_string())
}

/// The report of `[now − days, now)` written to `target`, whole or not at all.
pub fn report_pdf_at(
    state: &AppState,
    days: u32,
    lang: Lang,
    target: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let days = days.clamp(1, 365);
    let store = state.store()?;
    let (tz, unit) = state::tz_and_unit(&store)?;
    let (prescription, _) = gather::prescription_or_default(&store, tz, now)?;
    let window = Window::new(now - TimeDelta::days(i64::from(days)), now);
    let points = store.glucose_points(Some(window.from), Some(window.to))?;
    let profile = store.profile_or_default()?;
    let report = ilot_report::compute(&ilot_report::Input {
        patient: ilot_report::Patient {
            pseudonym: profile.pseudonym,
            identity: profile.ins,
        },
        points: &points,
        window,
        tz,
        ranges: ilot_rules::assumed::ranges(Some(&prescription)),
        unit,
        generated_at: now,
    });
    let bytes = ilot_report::pdf(&report, lang).map_err(|e| Error::Io(e.to_string()))?;
    write_whole(target, &bytes)
}

/// A temporary file beside `target`, synced, then renamed over it: a failure leaves nothing.
fn write_whole(target: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Io(format!("{}: {e}", target.display()));
    let name = target
        .file_name()
        .ok_or_else(|| Error::Io(format!("{}: not a file name", target.display())))?;
    let tmp = target.with_file_name(format!(".{}.part", name.to_string_lossy()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}
