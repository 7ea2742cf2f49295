//! The server's periodic work: raising the "no data transmitted" alert, which only the server
//! can notice (SPEC §2), and applying the retention limits (`crate::retention`). Every node may
//! run both: alerts are stored by their deterministic key, so two nodes raising the same silence
//! keep one alert, and a retention pass is one transaction (a second node's pass finds nothing
//! left to delete).

use crate::http::AppState;

pub async fn run(state: AppState) {
    tokio::spawn(retention(state.clone()));
    let mut tick = tokio::time::interval(state.0.config.no_data_every);
    loop {
        tick.tick().await;
        let r = state
            .blocking(|s| crate::rules::raise_no_data(s.storage(), s.now()))
            .await;
        match r {
            Ok(0) => {}
            Ok(n) => tracing::info!("raised {n} no-data alerts"),
            Err(e) => tracing::warn!("no-data pass failed: {e}"),
        }
    }
}

/// The retention pass at the server's clock, every `Config::retention_every`.
async fn retention(state: AppState) {
    let mut tick = tokio::time::interval(state.0.config.retention_every);
    loop {
        tick.tick().await;
        let r = state
            .blocking(|s| crate::retention::apply(s.storage(), s.now()))
            .await;
        match r {
            Ok(n) if n.total() == 0 => {}
            Ok(n) => tracing::info!(
                "retention: deleted {} records past their retention, {} sync batch records, {} devices",
                n.patients,
                n.batches,
                n.devices
            ),
            Err(e) => tracing::warn!("retention pass failed: {e}"),
        }
    }
}
