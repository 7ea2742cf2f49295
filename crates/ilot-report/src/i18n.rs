//! The report's strings, French first, then English. One typed table per language: a string
//! missing from either is a compile error, not a blank on a medical document. The PDF is built
//! in Rust (CLI, app, server), so its catalogue lives here rather than in the UI's JSON files.

use chrono::{DateTime, NaiveDate, TimeZone};
use ilot_domain::{Glucose, GlucoseUnit};

/// The report's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Fr,
    En,
}

impl Lang {
    /// `fr` or `en` (as the app's and the console's catalogues name them).
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Self::Fr),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    pub(crate) fn strings(self) -> &'static Strings {
        match self {
            Self::Fr => &FR,
            Self::En => &EN,
        }
    }

    fn decimal_comma(self) -> bool {
        self == Self::Fr
    }

    /// `v` with `decimals` digits, in this language's decimal separator (display only).
    pub fn number(self, v: f64, decimals: usize) -> String {
        let s = format!("{v:.decimals$}");
        if self.decimal_comma() {
            s.replace('.', ",")
        } else {
            s
        }
    }

    /// A percentage as the report prints it: one decimal, `72,3 %` / `72.3 %`; `—` for none.
    pub fn percent(self, v: Option<f64>) -> String {
        v.map_or_else(|| "—".into(), |v| format!("{} %", self.number(v, 1)))
    }

    /// A glucose value in `unit` with that unit's usual decimals (no unit symbol).
    pub fn glucose(self, mg_dl: f64, unit: GlucoseUnit) -> String {
        match Glucose::from_mg_dl(mg_dl) {
            Ok(g) => g.format(unit, self.decimal_comma()),
            // Outside what a meter can give (only a chart tick could be): shown in mg/dL.
            Err(_) => self.number(mg_dl, 0),
        }
    }

    pub fn date(self, d: NaiveDate) -> String {
        match self {
            Self::Fr => d.format("%d/%m/%Y").to_string(),
            Self::En => d.format("%Y-%m-%d").to_string(),
        }
    }

    pub fn date_time<Z: TimeZone>(self, t: &DateTime<Z>) -> String
    where
        Z::Offset: std::fmt::Display,
    {
        match self {
            Self::Fr => t.format("%d/%m/%Y %H:%M").to_string(),
            Self::En => t.format("%Y-%m-%d %H:%M").to_string(),
        }
    }
}

/// Every string of the report. `{}`-free: numbers are placed by the layout, next to the text.
#[derive(Debug)]
pub(crate) struct Strings {
    pub title: &'static str,
    pub subtitle: &'static str,
    pub patient: &'static str,
    pub identity: &'static str,
    pub period: &'static str,
    pub days: &'static str,
    pub cgm_active: &'static str,
    pub readings: &'static str,
    pub capillary_readings: &'static str,
    pub per_day: &'static str,
    pub insufficient: &'static str,
    pub too_short: &'static str,
    pub too_little_wear: &'static str,
    pub stats_heading: &'static str,
    pub col_metric: &'static str,
    pub col_value: &'static str,
    pub col_target: &'static str,
    pub tir: &'static str,
    pub tbr: &'static str,
    pub tbr_l1: &'static str,
    pub tbr_l2: &'static str,
    pub tar: &'static str,
    pub tar_l1: &'static str,
    pub tar_l2: &'static str,
    pub mean: &'static str,
    pub gmi: &'static str,
    pub cv: &'static str,
    pub sd: &'static str,
    pub active: &'static str,
    pub hypo_episodes: &'static str,
    pub lo_hi: &'static str,
    pub lo_hi_note: &'static str,
    pub pregnancy_tir: &'static str,
    pub pregnancy_below: &'static str,
    pub pregnancy_above: &'static str,
    pub bar_heading: &'static str,
    pub very_high: &'static str,
    pub high: &'static str,
    pub in_range: &'static str,
    pub low: &'static str,
    pub very_low: &'static str,
    pub agp_heading: &'static str,
    pub agp_legend_median: &'static str,
    pub agp_legend_iqr: &'static str,
    pub agp_legend_outer: &'static str,
    pub agp_legend_target: &'static str,
    pub no_cgm: &'static str,
    pub daily_heading: &'static str,
    pub weekdays: [&'static str; 7],
    pub no_data: &'static str,
    pub hypo_heading: &'static str,
    pub hypo_of_which: &'static str,
    pub hypo_none: &'static str,
    pub col_start: &'static str,
    pub col_duration: &'static str,
    pub col_nadir: &'static str,
    pub ongoing: &'static str,
    pub more: &'static str,
    pub newest_first: &'static str,
    pub capillary_note: &'static str,
    pub readings_per_day: &'static str,
    pub logbook_heading: &'static str,
    pub col_date: &'static str,
    pub contexts: [&'static str; 7],
    pub logbook_legend: &'static str,
    pub generated: &'static str,
    pub page: &'static str,
}

pub(crate) const FR: Strings = Strings {
    title: "Rapport AGP – Profil glycémique ambulatoire",
    subtitle: "Selon le consensus international sur le temps dans la cible (Battelino et al., 2019)",
    patient: "Patient :",
    identity: "Identité :",
    period: "Période :",
    days: "jours",
    cgm_active: "Capteur actif :",
    readings: "Mesures :",
    capillary_readings: "Glycémies capillaires :",
    per_day: "par jour",
    insufficient: "Données insuffisantes pour un rapport du consensus :",
    too_short: "moins de 14 jours",
    too_little_wear: "capteur actif moins de 70 % du temps",
    stats_heading: "Statistiques et cibles",
    col_metric: "Indicateur",
    col_value: "Valeur",
    col_target: "Cible",
    tir: "Temps dans la cible 70–180 mg/dL",
    tbr: "Temps sous la cible < 70 mg/dL",
    tbr_l1: "niveau 1 : 54–69 mg/dL",
    tbr_l2: "niveau 2 : < 54 mg/dL",
    tar: "Temps au-dessus de la cible > 180 mg/dL",
    tar_l1: "niveau 1 : 181–250 mg/dL",
    tar_l2: "niveau 2 : > 250 mg/dL",
    mean: "Glucose moyen",
    gmi: "GMI (indicateur de gestion du glucose)",
    cv: "Coefficient de variation (CV)",
    sd: "Écart type",
    active: "Temps de capteur actif",
    hypo_episodes: "Épisodes d'hypoglycémie < 70 / < 54",
    lo_hi: "Mesures LO / HI",
    lo_hi_note: "hors moyenne",
    pregnancy_tir: "Grossesse : cible 63–140 mg/dL",
    pregnancy_below: "Grossesse : < 63 mg/dL",
    pregnancy_above: "Grossesse : > 140 mg/dL",
    bar_heading: "Temps dans les plages",
    very_high: "Très élevé > 250",
    high: "Élevé 181–250",
    in_range: "Dans la cible 70–180",
    low: "Bas 54–69",
    very_low: "Très bas < 54",
    agp_heading: "Profil glycémique ambulatoire (AGP), toutes les journées superposées",
    agp_legend_median: "médiane",
    agp_legend_iqr: "25–75 %",
    agp_legend_outer: "5–95 %",
    agp_legend_target: "cible 70–180",
    no_cgm: "Pas de mesure de capteur sur la période",
    daily_heading: "Profils quotidiens (14 derniers jours)",
    weekdays: ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    no_data: "pas de données",
    hypo_heading: "Épisodes d'hypoglycémie < 70 mg/dL :",
    hypo_of_which: "dont < 54 mg/dL :",
    hypo_none: "Aucun épisode sur la période.",
    col_start: "Début",
    col_duration: "Durée",
    col_nadir: "Nadir",
    ongoing: "en cours",
    more: "épisodes plus anciens non listés",
    newest_first: "du plus récent au plus ancien",
    capillary_note: "Pourcentages des glycémies capillaires, non du temps.",
    readings_per_day: "Glycémies par jour",
    logbook_heading: "Carnet de glycémies capillaires par moment (14 derniers jours)",
    col_date: "Date",
    contexts: [
        "À jeun",
        "Avant repas",
        "1 h après",
        "2 h après",
        "Coucher",
        "Nuit",
        "Autre",
    ],
    logbook_legend: "▼ sous 70 mg/dL   ▲ au-dessus de 180 mg/dL",
    generated: "Édité par Ilot le",
    page: "page 1/1",
};

pub(crate) const EN: Strings = Strings {
    title: "AGP Report – Ambulatory Glucose Profile",
    subtitle: "As laid out by the International Consensus on Time in Range (Battelino et al., 2019)",
    patient: "Patient:",
    identity: "Identity:",
    period: "Period:",
    days: "days",
    cgm_active: "CGM active:",
    readings: "Readings:",
    capillary_readings: "Fingerstick readings:",
    per_day: "a day",
    insufficient: "Not enough data for a consensus report:",
    too_short: "under 14 days",
    too_little_wear: "CGM active under 70 % of the time",
    stats_heading: "Glucose statistics and targets",
    col_metric: "Metric",
    col_value: "Value",
    col_target: "Target",
    tir: "Time in range 70–180 mg/dL",
    tbr: "Time below range < 70 mg/dL",
    tbr_l1: "level 1: 54–69 mg/dL",
    tbr_l2: "level 2: < 54 mg/dL",
    tar: "Time above range > 180 mg/dL",
    tar_l1: "level 1: 181–250 mg/dL",
    tar_l2: "level 2: > 250 mg/dL",
    mean: "Mean glucose",
    gmi: "GMI (glucose management indicator)",
    cv: "Coefficient of variation (CV)",
    sd: "Standard deviation",
    active: "CGM active time",
    hypo_episodes: "Hypoglycaemia episodes < 70 / < 54",
    lo_hi: "LO / HI readings",
    lo_hi_note: "not in the mean",
    pregnancy_tir: "Pregnancy: range 63–140 mg/dL",
    pregnancy_below: "Pregnancy: < 63 mg/dL",
    pregnancy_above: "Pregnancy: > 140 mg/dL",
    bar_heading: "Time in ranges",
    very_high: "Very high > 250",
    high: "High 181–250",
    in_range: "In range 70–180",
    low: "Low 54–69",
    very_low: "Very low < 54",
    agp_heading: "Ambulatory glucose profile (AGP), every day overlaid",
    agp_legend_median: "median",
    agp_legend_iqr: "25–75 %",
    agp_legend_outer: "5–95 %",
    agp_legend_target: "target 70–180",
    no_cgm: "No sensor reading in the period",
    daily_heading: "Daily glucose profiles (last 14 days)",
    weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    no_data: "no data",
    hypo_heading: "Hypoglycaemia episodes < 70 mg/dL:",
    hypo_of_which: "of which < 54 mg/dL:",
    hypo_none: "No episode in the period.",
    col_start: "Start",
    col_duration: "Duration",
    col_nadir: "Nadir",
    ongoing: "ongoing",
    more: "older episodes not listed",
    newest_first: "newest first",
    capillary_note: "Percentages of fingerstick readings, not of time.",
    readings_per_day: "Readings a day",
    logbook_heading: "Fingerstick logbook by time of day (last 14 days)",
    col_date: "Date",
    contexts: [
        "Fasting",
        "Before meal",
        "1 h after",
        "2 h after",
        "Bedtime",
        "Night",
        "Other",
    ],
    logbook_legend: "▼ below 70 mg/dL   ▲ above 180 mg/dL",
    generated: "Made by Ilot on",
    page: "page 1/1",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_language() {
        assert_eq!(Lang::Fr.percent(Some(72.24)), "72,2 %");
        assert_eq!(Lang::En.percent(Some(72.26)), "72.3 %");
        assert_eq!(Lang::Fr.percent(None), "—");
        assert_eq!(Lang::Fr.glucose(154.0, GlucoseUnit::GramsPerLitre), "1,54");
        assert_eq!(Lang::En.glucose(154.0, GlucoseUnit::MgPerDl), "154");
        assert_eq!(Lang::parse(" EN "), Some(Lang::En));
        assert_eq!(Lang::parse("de"), None);
    }
}
