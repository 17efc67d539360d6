//! The small vocabularies the rules speak: platforms, adhesion states, rule kinds, tranche states.
//! Each has a stable database/CSV code and an Italian label; the codes are a data contract.

use serde::{Deserialize, Serialize};

/// The three national platforms of the fund.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Platform {
    PagoPa,
    AppIo,
    SpidCie,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::PagoPa, Platform::AppIo, Platform::SpidCie];

    pub fn code(self) -> &'static str {
        match self {
            Platform::PagoPa => "pagopa",
            Platform::AppIo => "io",
            Platform::SpidCie => "spid_cie",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Platform::PagoPa => "pagoPA",
            Platform::AppIo => "App IO",
            Platform::SpidCie => "SPID/CIE",
        }
    }
}

/// A comune's position towards a programme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AdhesionStatus {
    Aderente,
    /// Answered after the deadline but still supported (Puglia: 7 comuni).
    AderenteInRitardo,
    #[default]
    NonAderente,
    Rinuncia,
}

impl AdhesionStatus {
    pub const ALL: [AdhesionStatus; 4] = [
        AdhesionStatus::Aderente,
        AdhesionStatus::AderenteInRitardo,
        AdhesionStatus::NonAderente,
        AdhesionStatus::Rinuncia,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AdhesionStatus::Aderente => "aderente",
            AdhesionStatus::AderenteInRitardo => "aderente_in_ritardo",
            AdhesionStatus::NonAderente => "non_aderente",
            AdhesionStatus::Rinuncia => "rinuncia",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            AdhesionStatus::Aderente => "Aderente",
            AdhesionStatus::AderenteInRitardo => "Aderente in ritardo",
            AdhesionStatus::NonAderente => "Non aderente",
            AdhesionStatus::Rinuncia => "Rinuncia",
        }
    }

    /// Supported by the programme: objectives and tranches apply.
    pub fn is_supported(self) -> bool {
        matches!(self, AdhesionStatus::Aderente | AdhesionStatus::AderenteInRitardo)
    }
}

/// What a supported comune gave up of its grant. Separate from [`AdhesionStatus`]: a comune that
/// renounces stays `aderente` (or `aderente_in_ritardo`), so what it reached by each deadline
/// still counts in the figures; only the euros follow the renunciation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Renunciation {
    /// The tranches of the steps the programme lets a comune renounce alone ([`crate::rules::Step::renounce_by`]):
    /// Fondo Innovazione's saldo (80%), by 26/05/2022; the 20% earned with step 1 stays earned.
    Saldo,
    /// The whole grant, every tranche.
    Contributo,
}

impl Renunciation {
    pub const ALL: [Renunciation; 2] = [Renunciation::Saldo, Renunciation::Contributo];

    pub fn code(self) -> &'static str {
        match self {
            Renunciation::Saldo => "saldo",
            Renunciation::Contributo => "contributo",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Renunciation::Saldo => "Rinuncia al saldo",
            Renunciation::Contributo => "Rinuncia all'intero contributo",
        }
    }
}

/// How an objective is measured. Stored as a code in the `objective` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleKind {
    /// At least `threshold` active services on the platform (pagoPA: applicable collection
    /// services; App IO: published services; SPID/CIE: online services with SPID access).
    MinServices,
    /// At least `threshold` percent of the comune's applicable pagoPA services active.
    ShareOfApplicable,
    /// Every online service reachable with both SPID and CIE (at least one service).
    AllServicesSpidAndCie,
}

impl RuleKind {
    pub fn code(self) -> &'static str {
        match self {
            RuleKind::MinServices => "min_servizi",
            RuleKind::ShareOfApplicable => "quota_servizi_applicabili",
            RuleKind::AllServicesSpidAndCie => "tutti_servizi_spid_cie",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [RuleKind::MinServices, RuleKind::ShareOfApplicable, RuleKind::AllServicesSpidAndCie]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// What became of one tranche of a comune's grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrancheStatus {
    /// The step was reached by its deadline.
    Earned,
    /// The deadline passed without the step.
    Lost,
    /// The deadline has not passed yet.
    Possible,
    /// The comune renounced.
    Renounced,
    /// The comune is not in the programme.
    NotApplicable,
}

impl TrancheStatus {
    pub fn label(self) -> &'static str {
        match self {
            TrancheStatus::Earned => "Maturata",
            TrancheStatus::Lost => "Persa",
            TrancheStatus::Possible => "Ancora possibile",
            TrancheStatus::Renounced => "Rinunciata",
            TrancheStatus::NotApplicable => "Non prevista",
        }
    }
}

/// What an objective measures today against what it asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub value: i64,
    pub required: i64,
    pub unit: ProgressUnit,
    pub holds: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ProgressUnit {
    Services,
    NewServices,
    ApplicableServices { total: i64 },
    SpidAndCieServices,
}

impl Progress {
    /// The measure in Italian words, e.g. "23 servizi attivi su 30 applicabili (ne servono 21)".
    pub fn describe(&self) -> String {
        // Italian agrees the noun with the number: 1 servizio, 2 servizi.
        let servizi = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let needed = |n: i64| if n == 1 { "ne serve 1".to_string() } else { format!("ne servono {n}") };
        match self.unit {
            ProgressUnit::Services => {
                format!("{} ({})", servizi(self.value, "servizio", "servizi"), needed(self.required))
            }
            ProgressUnit::NewServices => {
                format!(
                    "{} ({})",
                    servizi(self.value, "servizio nuovo", "servizi nuovi"),
                    needed(self.required)
                )
            }
            ProgressUnit::ApplicableServices { total } => format!(
                "{} su {total} applicabili ({})",
                servizi(self.value, "servizio attivo", "servizi attivi"),
                needed(self.required)
            ),
            ProgressUnit::SpidAndCieServices if self.value == 0 && self.required <= 1 => {
                "Nessun servizio online con SPID e CIE".to_string()
            }
            ProgressUnit::SpidAndCieServices => {
                format!(
                    "{} con SPID e CIE su {}",
                    servizi(self.value, "servizio online", "servizi online"),
                    self.required
                )
            }
        }
    }
}

/// The Region's review of one piece of evidence, as PA digitale 2026's verifiers give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReviewOutcome {
    Positivo,
    /// Partly positive: the comune fixes what the reason says and uploads a new version.
    ParzialmentePositivo,
    Negativo,
}

impl ReviewOutcome {
    pub const ALL: [ReviewOutcome; 3] =
        [ReviewOutcome::Positivo, ReviewOutcome::ParzialmentePositivo, ReviewOutcome::Negativo];

    pub fn code(self) -> &'static str {
        match self {
            ReviewOutcome::Positivo => "positivo",
            ReviewOutcome::ParzialmentePositivo => "parzialmente_positivo",
            ReviewOutcome::Negativo => "negativo",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewOutcome::Positivo => "Positivo",
            ReviewOutcome::ParzialmentePositivo => "Parzialmente positivo: da correggere",
            ReviewOutcome::Negativo => "Negativo",
        }
    }

    /// Whether the review must say why (what to fix, or why it is refused).
    pub fn needs_reason(self) -> bool {
        self != ReviewOutcome::Positivo
    }
}
