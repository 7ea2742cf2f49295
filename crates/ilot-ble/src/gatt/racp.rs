//! Record Access Control Point (0x2A52), shared by GLS and CGMS: Op Code, Operator, Operand.
//!
//! Filter type 0x01 is the sequence number for GLS and the time offset for CGMS (both uint16);
//! filter type 0x02 is the user-facing time (a Date Time, GLS only). Responses are the Number of
//! Stored Records (uint16) and the Response Code (request op code + response code value).

use super::glucose::code_enum;
use super::{DateTime, Reader};
use crate::error::DecodeError;

code_enum!(RacpOpCode {
    1 => ReportStoredRecords "report-stored-records",
    2 => DeleteStoredRecords "delete-stored-records",
    3 => AbortOperation "abort-operation",
    4 => ReportNumberOfRecords "report-number-of-stored-records",
    5 => NumberOfRecordsResponse "number-of-stored-records-response",
    6 => ResponseCode "response-code",
});

code_enum!(RacpOperator {
    0 => Null "null",
    1 => AllRecords "all-records",
    2 => LessOrEqual "less-than-or-equal-to",
    3 => GreaterOrEqual "greater-than-or-equal-to",
    4 => WithinRange "within-range-inclusive",
    5 => FirstRecord "first-record",
    6 => LastRecord "last-record",
});

code_enum!(RacpResponseCode {
    1 => Success "success",
    2 => OpCodeNotSupported "op-code-not-supported",
    3 => InvalidOperator "invalid-operator",
    4 => OperatorNotSupported "operator-not-supported",
    5 => InvalidOperand "invalid-operand",
    6 => NoRecordsFound "no-records-found",
    7 => AbortUnsuccessful "abort-unsuccessful",
    8 => ProcedureNotCompleted "procedure-not-completed",
    9 => OperandNotSupported "operand-not-supported",
});

/// A filter value: type 0x01 (GLS sequence number / CGMS time offset) or 0x02 (user-facing time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Number(u16),
    UserFacingTime(DateTime),
}

/// Which records a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    All,
    First,
    Last,
    AtMost(Filter),
    AtLeast(Filter),
    Range(Filter, Filter),
}

/// What a collector writes to the RACP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RacpRequest {
    Report(Selection),
    Delete(Selection),
    ReportNumber(Selection),
    Abort,
}

/// What a device indicates on the RACP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RacpResponse {
    NumberOfRecords(u16),
    Code {
        request: RacpOpCode,
        code: RacpResponseCode,
    },
}

const RACP: &str = "Record Access Control Point (0x2A52)";

fn write_filter(v: &mut Vec<u8>, f: Filter) {
    match f {
        Filter::Number(n) => v.extend_from_slice(&n.to_le_bytes()),
        Filter::UserFacingTime(t) => t.encode_into(v),
    }
}

fn filter_type(f: Filter) -> u8 {
    match f {
        Filter::Number(_) => 0x01,
        Filter::UserFacingTime(_) => 0x02,
    }
}

impl RacpRequest {
    pub fn encode(&self) -> Vec<u8> {
        let (op, sel) = match *self {
            Self::Report(s) => (RacpOpCode::ReportStoredRecords, Some(s)),
            Self::Delete(s) => (RacpOpCode::DeleteStoredRecords, Some(s)),
            Self::ReportNumber(s) => (RacpOpCode::ReportNumberOfRecords, Some(s)),
            Self::Abort => (RacpOpCode::AbortOperation, None),
        };
        let mut v = vec![op.code()];
        match sel {
            None => v.push(RacpOperator::Null.code()),
            Some(Selection::All) => v.push(RacpOperator::AllRecords.code()),
            Some(Selection::First) => v.push(RacpOperator::FirstRecord.code()),
            Some(Selection::Last) => v.push(RacpOperator::LastRecord.code()),
            Some(Selection::AtMost(f)) => {
                v.extend_from_slice(&[RacpOperator::LessOrEqual.code(), filter_type(f)]);
                write_filter(&mut v, f);
            }
            Some(Selection::AtLeast(f)) => {
                v.extend_from_slice(&[RacpOperator::GreaterOrEqual.code(), filter_type(f)]);
                write_filter(&mut v, f);
            }
            Some(Selection::Range(a, b)) => {
                v.extend_from_slice(&[RacpOperator::WithinRange.code(), filter_type(a)]);
                write_filter(&mut v, a);
                write_filter(&mut v, b);
            }
        }
        v
    }

    /// Decodes a request as a device receives it. An unknown op code or operator is a
    /// [`DecodeError::BadValue`]; a device answers those with a response code instead, which the
    /// simulator does from this error.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(RACP, bytes);
        let op = RacpOpCode::from_code(r.u8("op code")?);
        let op_at = 1;
        let operator_at = r.pos();
        let operator = RacpOperator::from_code(r.u8("operator")?);
        if op == RacpOpCode::AbortOperation {
            if operator != RacpOperator::Null {
                return Err(r.bad(
                    "operator",
                    operator_at,
                    u32::from(operator.code()),
                    "must be null (0) for abort",
                ));
            }
            r.finish()?;
            return Ok(Self::Abort);
        }
        let sel = match operator {
            RacpOperator::AllRecords => Selection::All,
            RacpOperator::FirstRecord => Selection::First,
            RacpOperator::LastRecord => Selection::Last,
            RacpOperator::LessOrEqual
            | RacpOperator::GreaterOrEqual
            | RacpOperator::WithinRange => {
                let type_at = r.pos();
                let ftype = r.u8("filter type")?;
                let read = |r: &mut Reader<'_>| -> Result<Filter, DecodeError> {
                    match ftype {
                        0x01 => Ok(Filter::Number(r.u16("filter value")?)),
                        0x02 => Ok(Filter::UserFacingTime(DateTime::read(r, "filter value")?)),
                        t => Err(r.bad(
                            "filter type",
                            type_at,
                            u32::from(t),
                            "is not 1 (sequence number / time offset) or 2 (user facing time)",
                        )),
                    }
                };
                let a = read(&mut r)?;
                match operator {
                    RacpOperator::LessOrEqual => Selection::AtMost(a),
                    RacpOperator::GreaterOrEqual => Selection::AtLeast(a),
                    _ => Selection::Range(a, read(&mut r)?),
                }
            }
            other => {
                return Err(r.bad(
                    "operator",
                    operator_at,
                    u32::from(other.code()),
                    "is not a record selection operator",
                ));
            }
        };
        r.finish()?;
        match op {
            RacpOpCode::ReportStoredRecords => Ok(Self::Report(sel)),
            RacpOpCode::DeleteStoredRecords => Ok(Self::Delete(sel)),
            RacpOpCode::ReportNumberOfRecords => Ok(Self::ReportNumber(sel)),
            other => Err(r.bad(
                "op code",
                op_at - 1,
                u32::from(other.code()),
                "is not a request op code",
            )),
        }
    }

    pub fn op_code(&self) -> RacpOpCode {
        match self {
            Self::Report(_) => RacpOpCode::ReportStoredRecords,
            Self::Delete(_) => RacpOpCode::DeleteStoredRecords,
            Self::ReportNumber(_) => RacpOpCode::ReportNumberOfRecords,
            Self::Abort => RacpOpCode::AbortOperation,
        }
    }
}

impl RacpResponse {
    pub fn encode(&self) -> Vec<u8> {
        match *self {
            Self::NumberOfRecords(n) => {
                let mut v = vec![RacpOpCode::NumberOfRecordsResponse.code(), 0];
                v.extend_from_slice(&n.to_le_bytes());
                v
            }
            Self::Code { request, code } => {
                vec![
                    RacpOpCode::ResponseCode.code(),
                    0,
                    request.code(),
                    code.code(),
                ]
            }
        }
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(RACP, bytes);
        let op = r.u8("op code")?;
        let operator = r.u8("operator")?;
        if operator != 0 {
            return Err(r.bad(
                "operator",
                1,
                u32::from(operator),
                "must be null (0) in a response",
            ));
        }
        let out = match RacpOpCode::from_code(op) {
            RacpOpCode::NumberOfRecordsResponse => {
                Self::NumberOfRecords(r.u16("number of records")?)
            }
            RacpOpCode::ResponseCode => Self::Code {
                request: RacpOpCode::from_code(r.u8("request op code")?),
                code: RacpResponseCode::from_code(r.u8("response code value")?),
            },
            _ => {
                return Err(r.bad(
                    "op code",
                    0,
                    u32::from(op),
                    "is not a response op code (5 or 6)",
                ));
            }
        };
        r.finish()?;
        Ok(out)
    }
}
