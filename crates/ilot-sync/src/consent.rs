//! The device's consent decision and the periods of withdrawn consent.
//!
//! - The patient decides in the app ([`crate::set_consent`]); the care team may also record a
//!   decision collected in consultation (a withdrawal, a refusal, consent given again). The pull
//!   brings the consent history the server holds; when its latest record was collected in
//!   consultation and is later than the device's own decision, the device's state **follows
//!   it** ([`follow_team`]): the app then shows it, and while it is a withdrawal nothing is
//!   pushed (no pointless refused requests), readings are still recorded and kept.
//! - Every withdrawal after consent was given opens a [`WithdrawnPeriod`], closed by the next
//!   consent. Readings **measured** in such a period never leave the device, even after consent
//!   is given again: the new consent covers the monitoring from its time on, not the time the
//!   patient had refused it ([`withheld`]; docs/privacy.md §6). They stay in the local logbook
//!   and its exports; the outbox retires them without sending, as it retires profile changes.
//!   Readings recorded before the very first consent are covered by it (nothing was refused).

use chrono::{DateTime, Utc};
use ilot_wire::{ConsentChannel, ConsentDecision};

use crate::error::Result;
use crate::state::{Consent, SyncState, WithdrawnPeriod};

/// Whether a reading measured at `at` is held back for good (measured while consent was
/// withdrawn).
pub fn withheld(periods: &[WithdrawnPeriod], at: DateTime<Utc>) -> bool {
    periods.iter().any(|p| p.contains(at))
}

/// Records `c` as the device's decision and keeps the withdrawn periods: a withdrawal after a
/// consent opens one at its time, a consent closes the open one. The periods are saved first:
/// a crash between the two writes can only hold back more, never send more.
pub(crate) fn decide<L: SyncState>(local: &mut L, c: &Consent) -> Result<()> {
    let before = local.consent()?;
    let mut periods = local.withdrawn_periods()?;
    let open = periods.last().is_some_and(|p| p.until.is_none());
    if !c.granted && before.is_some_and(|b| b.granted) && !open {
        periods.push(WithdrawnPeriod {
            from: c.at,
            until: None,
        });
        local.set_withdrawn_periods(&periods)?;
    } else if c.granted
        && let Some(p) = periods.last_mut().filter(|p| p.until.is_none())
    {
        p.until = Some(c.at.max(p.from));
        local.set_withdrawn_periods(&periods)?;
    }
    local.set_consent(c)
}

/// After a pull: when the latest record of the server's consent history was collected in
/// consultation by the care team and is later than the device's own decision (the server holds
/// it, or the decision not yet told is older), the device's
/// decision follows it (already known to the server: nothing to tell). Following a withdrawal
/// drops the batch in flight (its entries stay unsent on the device). Returns the decision
/// followed, if any.
pub(crate) fn follow_team<L: SyncState>(local: &mut L) -> Result<Option<ConsentDecision>> {
    let history = local.server_consent()?;
    let Some(last) = history.last() else {
        return Ok(None);
    };
    let Some(mine) = local.consent()? else {
        // Before any decision on this device the app asks the patient (onboarding).
        return Ok(None);
    };
    // A decision of this device the server already holds is in the history, ordered by time:
    // a consultation record last is the server's latest, whatever the clocks say. One not told
    // yet is compared by time.
    if last.channel != ConsentChannel::Consultation
        || mine.record == Some(last.id)
        || (!mine.told_server && last.at <= mine.at)
    {
        return Ok(None);
    }
    let granted = last.decision.granted();
    if !granted && local.in_flight()?.is_some() {
        let f = local.in_flight()?.expect("checked above");
        local.finish_batch(f.seq)?;
    }
    decide(
        local,
        &Consent {
            granted,
            at: last.at,
            notice_version: last.notice_version.unwrap_or(mine.notice_version),
            told_server: true,
            channel: ConsentChannel::Consultation,
            record: Some(last.id),
        },
    )?;
    Ok(Some(last.decision))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryState;

    fn t(h: u32) -> DateTime<Utc> {
        format!("2026-03-02T{h:02}:00:00Z").parse().unwrap()
    }

    fn app(granted: bool, at: DateTime<Utc>) -> Consent {
        Consent {
            granted,
            at,
            notice_version: 2,
            told_server: false,
            channel: ConsentChannel::App,
            record: None,
        }
    }

    #[test]
    fn a_withdrawal_after_consent_opens_a_period_that_the_next_consent_closes() {
        let mut s = MemoryState::default();
        decide(&mut s, &app(true, t(1))).unwrap();
        assert!(s.withdrawn_periods().unwrap().is_empty());
        decide(&mut s, &app(false, t(3))).unwrap();
        decide(&mut s, &app(false, t(4))).unwrap();
        let p = s.withdrawn_periods().unwrap();
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(!withheld(&p, t(2)) && withheld(&p, t(3)) && withheld(&p, t(20)));
        decide(&mut s, &app(true, t(6))).unwrap();
        let p = s.withdrawn_periods().unwrap();
        assert_eq!(
            p,
            vec![WithdrawnPeriod {
                from: t(3),
                until: Some(t(6))
            }]
        );
        assert!(withheld(&p, t(5)) && !withheld(&p, t(6)) && !withheld(&p, t(2)));
    }

    fn record(id: u64, decision: ConsentDecision, at: DateTime<Utc>) -> ilot_wire::ConsentRecord {
        ilot_wire::ConsentRecord {
            id,
            decision,
            at,
            notice_version: Some(2),
            channel: ConsentChannel::Consultation,
            collected_by: None,
        }
    }

    #[test]
    fn the_team_decision_the_server_holds_last_is_followed_whatever_the_device_clock() {
        // The device's clock is ahead: its consent, told to the server, says 05:00; the team's
        // withdrawal, recorded after it, says 04:00 and is the server's latest.
        let mut s = MemoryState::default();
        let mut told = app(true, t(5));
        told.told_server = true;
        decide(&mut s, &told).unwrap();
        s.save_rights(&ilot_wire::Rights {
            consent: vec![record(7, ConsentDecision::Withdrawn, t(4))],
            access_log: vec![],
        })
        .unwrap();
        assert_eq!(
            follow_team(&mut s).unwrap(),
            Some(ConsentDecision::Withdrawn)
        );
        let c = s.consent().unwrap().unwrap();
        assert!(!c.granted && c.record == Some(7) && c.channel == ConsentChannel::Consultation);
        // Followed once.
        assert_eq!(follow_team(&mut s).unwrap(), None);
        // A newer decision of the patient, not told yet, stands against an older team record.
        decide(&mut s, &app(true, t(6))).unwrap();
        assert_eq!(follow_team(&mut s).unwrap(), None);
        assert!(s.consent().unwrap().unwrap().granted);
    }

    #[test]
    fn a_refusal_before_any_consent_opens_no_period() {
        let mut s = MemoryState::default();
        decide(&mut s, &app(false, t(1))).unwrap();
        decide(&mut s, &app(true, t(2))).unwrap();
        assert!(s.withdrawn_periods().unwrap().is_empty());
    }
}
