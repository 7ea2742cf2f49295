//! The server's periodic work: raising the "no data transmitted" alert, which only the server
//! can notice (SPEC §2). Every node may run it: alerts are stored by their deterministic key,
//! so two nodes raising the same silence keep one alert.

use crate::http::AppState;

pub async fn run(state: AppState) {
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
