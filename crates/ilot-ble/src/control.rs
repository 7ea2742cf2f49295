//! The Record Access Control Point procedure as a pure state machine, shared by meters and CGMs.
//!
//! The caller writes what [`Procedure::start`] returns, then feeds every event it sees — an RACP
//! indication, a record notification, a timeout it measured, a disconnection — and acts on the
//! returned [`Step`]. No timer, no I/O: a timeout is an input like any other.
//!
//! Response codes become typed outcomes: "no records found" is a finished report of zero records;
//! every other non-success code is a [`Failure::Refused`] the caller sees (and may act on, e.g.
//! fall back from "≥ N" to "all records" when the operator is not supported).

use crate::gatt::{Filter, RacpOpCode, RacpRequest, RacpResponse, RacpResponseCode, Selection};

/// What the collector asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ReportAll,
    /// Records with a sequence number (GLS) or time offset (CGMS) ≥ this.
    ReportFrom(u16),
    /// Records numbered within `[first, last]` (both included).
    ReportRange(u16, u16),
    CountAll,
    CountFrom(u16),
}

impl Op {
    fn request(self) -> RacpRequest {
        match self {
            Self::ReportAll => RacpRequest::Report(Selection::All),
            Self::ReportFrom(n) => RacpRequest::Report(Selection::AtLeast(Filter::Number(n))),
            Self::ReportRange(a, b) => {
                RacpRequest::Report(Selection::Range(Filter::Number(a), Filter::Number(b)))
            }
            Self::CountAll => RacpRequest::ReportNumber(Selection::All),
            Self::CountFrom(n) => RacpRequest::ReportNumber(Selection::AtLeast(Filter::Number(n))),
        }
    }
}

/// How a procedure ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The device reported every matching record (`records` notifications were counted).
    Reported {
        records: u32,
    },
    Count(u16),
    Aborted {
        records: u32,
    },
}

/// How a procedure ended badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Refused {
        request: RacpOpCode,
        code: RacpResponseCode,
    },
    Timeout {
        records: u32,
    },
    Disconnected {
        records: u32,
    },
    Unexpected(String),
}

impl Failure {
    /// The device cannot filter: asking for all records instead is the known workaround.
    pub fn filter_unsupported(&self) -> bool {
        matches!(
            self,
            Self::Refused {
                code: RacpResponseCode::OperatorNotSupported
                    | RacpResponseCode::OperandNotSupported
                    | RacpResponseCode::InvalidOperator
                    | RacpResponseCode::InvalidOperand,
                ..
            }
        )
    }
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Keep listening.
    Continue,
    /// Write these bytes to the RACP (an abort after a timeout) and keep listening.
    Write(Vec<u8>),
    Finished(Finished),
    Failed(Failure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Waiting,
    Aborting,
    Done,
}

/// One RACP procedure in progress.
#[derive(Debug, Clone)]
pub struct Procedure {
    request: RacpRequest,
    state: State,
    records: u32,
}

impl Procedure {
    /// The procedure and the bytes to write to the RACP (indications must already be on).
    pub fn start(op: Op) -> (Self, Vec<u8>) {
        let request = op.request();
        let bytes = request.encode();
        (
            Self {
                request,
                state: State::Waiting,
                records: 0,
            },
            bytes,
        )
    }

    pub fn records(&self) -> u32 {
        self.records
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// A record notification arrived (GLS measurement or CGM measurement record).
    pub fn on_record(&mut self) -> Step {
        match self.state {
            State::Done => Step::Failed(Failure::Unexpected(
                "a record arrived after the procedure ended".into(),
            )),
            _ => {
                self.records += 1;
                Step::Continue
            }
        }
    }

    /// An RACP indication arrived.
    pub fn on_response(&mut self, resp: RacpResponse) -> Step {
        if self.state == State::Done {
            return Step::Failed(Failure::Unexpected(format!(
                "RACP answer {resp:?} after the procedure ended"
            )));
        }
        let asked = self.request.op_code();
        let step = match (self.state, resp) {
            (
                State::Aborting,
                RacpResponse::Code {
                    request: RacpOpCode::AbortOperation,
                    code,
                },
            ) => match code {
                RacpResponseCode::Success => Step::Finished(Finished::Aborted {
                    records: self.records,
                }),
                code => Step::Failed(Failure::Refused {
                    request: RacpOpCode::AbortOperation,
                    code,
                }),
            },
            // The report the abort interrupted may still close with its own code; keep waiting.
            (State::Aborting, _) => return Step::Continue,
            (State::Waiting, RacpResponse::NumberOfRecords(n))
                if asked == RacpOpCode::ReportNumberOfRecords =>
            {
                Step::Finished(Finished::Count(n))
            }
            (State::Waiting, RacpResponse::Code { request, code }) if request == asked => {
                match code {
                    RacpResponseCode::Success if asked == RacpOpCode::ReportStoredRecords => {
                        Step::Finished(Finished::Reported {
                            records: self.records,
                        })
                    }
                    RacpResponseCode::NoRecordsFound
                        if asked == RacpOpCode::ReportStoredRecords =>
                    {
                        Step::Finished(Finished::Reported { records: 0 })
                    }
                    RacpResponseCode::NoRecordsFound
                        if asked == RacpOpCode::ReportNumberOfRecords =>
                    {
                        Step::Finished(Finished::Count(0))
                    }
                    code => Step::Failed(Failure::Refused { request, code }),
                }
            }
            (_, other) => Step::Failed(Failure::Unexpected(format!(
                "RACP answer {other:?} does not answer {}",
                asked.name()
            ))),
        };
        self.state = State::Done;
        step
    }

    /// The caller waited too long. The first timeout asks the device to abort; a second one ends
    /// the procedure.
    pub fn on_timeout(&mut self) -> Step {
        match self.state {
            State::Waiting => {
                self.state = State::Aborting;
                Step::Write(RacpRequest::Abort.encode())
            }
            State::Aborting => {
                self.state = State::Done;
                Step::Failed(Failure::Timeout {
                    records: self.records,
                })
            }
            State::Done => Step::Continue,
        }
    }

    pub fn on_disconnect(&mut self) -> Step {
        if self.state == State::Done {
            return Step::Continue;
        }
        self.state = State::Done;
        Step::Failed(Failure::Disconnected {
            records: self.records,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(request: RacpOpCode, code: RacpResponseCode) -> RacpResponse {
        RacpResponse::Code { request, code }
    }

    #[test]
    fn report_from_writes_the_spec_bytes_and_counts_records() {
        let (mut p, bytes) = Procedure::start(Op::ReportFrom(0x0105));
        // Op code 1, operator 3 (≥), filter type 1, value 0x0105 little-endian.
        assert_eq!(bytes, vec![0x01, 0x03, 0x01, 0x05, 0x01]);
        assert_eq!(p.on_record(), Step::Continue);
        assert_eq!(p.on_record(), Step::Continue);
        let s = p.on_response(code(
            RacpOpCode::ReportStoredRecords,
            RacpResponseCode::Success,
        ));
        assert_eq!(s, Step::Finished(Finished::Reported { records: 2 }));
        assert!(p.is_done());
    }

    #[test]
    fn report_range_writes_the_spec_bytes() {
        let (_, bytes) = Procedure::start(Op::ReportRange(0x0010, 0x0203));
        // Op code 1, operator 4 (within range inclusive), filter type 1, 0x0010, 0x0203.
        assert_eq!(bytes, vec![0x01, 0x04, 0x01, 0x10, 0x00, 0x03, 0x02]);
    }

    #[test]
    fn no_records_found_is_success_with_zero() {
        let (mut p, bytes) = Procedure::start(Op::ReportAll);
        assert_eq!(bytes, vec![0x01, 0x01]);
        let s = p.on_response(code(
            RacpOpCode::ReportStoredRecords,
            RacpResponseCode::NoRecordsFound,
        ));
        assert_eq!(s, Step::Finished(Finished::Reported { records: 0 }));
    }

    #[test]
    fn op_code_not_supported_is_a_failure_the_caller_sees() {
        let (mut p, _) = Procedure::start(Op::CountAll);
        let s = p.on_response(code(
            RacpOpCode::ReportNumberOfRecords,
            RacpResponseCode::OpCodeNotSupported,
        ));
        assert_eq!(
            s,
            Step::Failed(Failure::Refused {
                request: RacpOpCode::ReportNumberOfRecords,
                code: RacpResponseCode::OpCodeNotSupported
            })
        );
    }

    #[test]
    fn count_answers_with_the_number() {
        let (mut p, bytes) = Procedure::start(Op::CountFrom(7));
        assert_eq!(bytes, vec![0x04, 0x03, 0x01, 0x07, 0x00]);
        assert_eq!(
            p.on_response(RacpResponse::NumberOfRecords(12)),
            Step::Finished(Finished::Count(12))
        );
    }

    #[test]
    fn unsupported_operator_suggests_the_fallback() {
        let (mut p, _) = Procedure::start(Op::ReportFrom(3));
        match p.on_response(code(
            RacpOpCode::ReportStoredRecords,
            RacpResponseCode::OperatorNotSupported,
        )) {
            Step::Failed(f) => assert!(f.filter_unsupported()),
            s => panic!("{s:?}"),
        }
    }

    #[test]
    fn timeout_aborts_then_gives_up() {
        let (mut p, _) = Procedure::start(Op::ReportAll);
        p.on_record();
        assert_eq!(p.on_timeout(), Step::Write(vec![0x03, 0x00]));
        // A late close of the report is ignored while aborting.
        assert_eq!(
            p.on_response(code(
                RacpOpCode::ReportStoredRecords,
                RacpResponseCode::ProcedureNotCompleted
            )),
            Step::Continue
        );
        assert_eq!(
            p.on_timeout(),
            Step::Failed(Failure::Timeout { records: 1 })
        );
    }

    #[test]
    fn abort_success_finishes() {
        let (mut p, _) = Procedure::start(Op::ReportAll);
        p.on_timeout();
        let s = p.on_response(code(RacpOpCode::AbortOperation, RacpResponseCode::Success));
        assert_eq!(s, Step::Finished(Finished::Aborted { records: 0 }));
    }

    #[test]
    fn disconnect_mid_transfer_reports_what_came() {
        let (mut p, _) = Procedure::start(Op::ReportAll);
        p.on_record();
        p.on_record();
        assert_eq!(
            p.on_disconnect(),
            Step::Failed(Failure::Disconnected { records: 2 })
        );
        assert_eq!(p.on_disconnect(), Step::Continue);
    }

    #[test]
    fn a_response_to_another_request_is_unexpected() {
        let (mut p, _) = Procedure::start(Op::ReportAll);
        let s = p.on_response(code(
            RacpOpCode::DeleteStoredRecords,
            RacpResponseCode::Success,
        ));
        assert!(matches!(s, Step::Failed(Failure::Unexpected(_))), "{s:?}");
        assert!(matches!(
            p.on_record(),
            Step::Failed(Failure::Unexpected(_))
        ));
    }
}
