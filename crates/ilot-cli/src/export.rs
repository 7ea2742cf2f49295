//! `ilot export csv|fhir FILE`: every current entry for a spreadsheet (CSV) or for medical
//! software (HL7 FHIR R4: the full export as a `collection`, or with `--feed` the ANS "Mesures de
//! santé" feed, one `transaction` bundle per line). The writing is `ilot_store::export`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use ilot_store::export::{FhirShape, write_csv, write_fhir};

use crate::context::Ctx;

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// Every entry as CSV (values as given, with their mg/dL)
    Csv(FileArg),
    /// Every entry as an HL7 FHIR R4 bundle (JSON), ANS "Mesures de santé" profiles for glucose
    Fhir {
        #[command(flatten)]
        file: FileArg,
        /// The ANS feed instead: one `transaction` bundle per observation, one per line (NDJSON)
        #[arg(long)]
        feed: bool,
    },
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// Where to write (replaced once the export is complete)
    pub file: PathBuf,
}

pub fn run(ctx: &Ctx, cmd: ExportCmd) -> Result<()> {
    match cmd {
        ExportCmd::Csv(f) => {
            let n = write_csv(&ctx.store, &f.file)?;
            println!("{n} entries written to {}", f.file.display());
        }
        ExportCmd::Fhir { file, feed } => {
            let shape = if feed {
                FhirShape::Feed
            } else {
                FhirShape::Collection
            };
            let n = write_fhir(&ctx.store, &file.file, ctx.now, shape)?;
            let what = if feed {
                "transaction bundles"
            } else {
                "entries"
            };
            println!("{n} {what} written to {}", file.file.display());
        }
    }
    Ok(())
}
