//! Running one query on a connection: parameters bound by their `$n` names,
//! rows copied out with their column names.
//!
//! Values are stored as the database has always held them (UUIDs as
//! hyphenated text, times as RFC 3339 text, dates as `YYYY-MM-DD`, JSON as
//! text, booleans as 0/1), so files written by earlier versions read the same.

use std::sync::Arc;

use basic_admin_core::store::{StoreError, StoreResult};
use basic_admin_core::time::Timestamp;
use basic_admin_store_sql::{Param, Query, Row};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone as _, Utc};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use uuid::Uuid;

use crate::error::map_err;

/// How many prepared statements each connection keeps; the store has fewer
/// distinct queries than this, so none is prepared twice.
pub(crate) const STATEMENT_CACHE: usize = 256;

/// A result row, owned: column names shared by the rows of one query.
pub struct Record {
    names: Arc<[String]>,
    values: Vec<SqlValue>,
}

fn value(param: Param) -> SqlValue {
    match param {
        Param::Id(v) => SqlValue::Text(v.hyphenated().to_string()),
        Param::OptId(v) => v.map_or(SqlValue::Null, |v| SqlValue::Text(v.hyphenated().to_string())),
        Param::Text(v) => SqlValue::Text(v),
        Param::OptText(v) => v.map_or(SqlValue::Null, SqlValue::Text),
        Param::Int(v) => SqlValue::Integer(v),
        Param::Bool(v) => SqlValue::Integer(i64::from(v)),
        Param::Time(v) => SqlValue::Text(time_text(v)),
        Param::OptTime(v) => v.map_or(SqlValue::Null, |v| SqlValue::Text(time_text(v))),
        Param::Date(v) => SqlValue::Text(v.format("%F").to_string()),
        Param::Json(v) => SqlValue::Text(v.to_string()),
        Param::OptJson(v) => v.map_or(SqlValue::Null, |v| SqlValue::Text(v.to_string())),
        Param::Bytes(v) => SqlValue::Blob(v),
    }
}

/// The text form every stored time has had (`…+00:00`, as many fraction
/// digits as needed): comparisons in SQL compare these strings.
fn time_text(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// Prepares (from the connection's cache) and binds `query`: `$n` takes the
/// n-th parameter wherever it appears, as on PostgreSQL.
fn prepare(conn: &rusqlite::Connection, query: Query) -> StoreResult<rusqlite::CachedStatement<'_>> {
    let mut statement = conn.prepare_cached(&query.sql).map_err(map_err)?;
    let params: Vec<SqlValue> = query.params.into_iter().map(value).collect();
    for index in 1..=statement.parameter_count() {
        let position = match statement.parameter_name(index) {
            Some(name) => name.trim_start_matches(['$', '?']).parse::<usize>().ok(),
            None => Some(index),
        };
        let bound = position
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| params.get(n))
            .ok_or_else(|| StoreError::Other(format!("no value for parameter {index} of the query")))?;
        statement.raw_bind_parameter(index, bound).map_err(map_err)?;
    }
    Ok(statement)
}

/// Runs `query` and copies out every row it returns.
pub(crate) fn fetch_all(conn: &rusqlite::Connection, query: Query) -> StoreResult<Vec<Record>> {
    let mut statement = prepare(conn, query)?;
    let names: Arc<[String]> = statement.column_names().into_iter().map(str::to_owned).collect();
    let width = names.len();
    let mut rows = statement.raw_query();
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(map_err)? {
        let mut values = Vec::with_capacity(width);
        for column in 0..width {
            values.push(row.get::<_, SqlValue>(column).map_err(map_err)?);
        }
        records.push(Record { names: names.clone(), values });
    }
    Ok(records)
}

/// Runs `query`: its first row, if any (the rest are still stepped through,
/// so that a write with `RETURNING` completes).
pub(crate) fn fetch_optional(conn: &rusqlite::Connection, query: Query) -> StoreResult<Option<Record>> {
    Ok(fetch_all(conn, query)?.into_iter().next())
}

/// Runs `query`: how many rows it changed.
pub(crate) fn execute(conn: &rusqlite::Connection, query: Query) -> StoreResult<u64> {
    let mut statement = prepare(conn, query)?;
    let mut rows = statement.raw_query();
    while rows.next().map_err(map_err)?.is_some() {}
    drop(rows);
    Ok(conn.changes())
}

impl Record {
    fn get(&self, column: &str) -> StoreResult<&SqlValue> {
        self.names
            .iter()
            .position(|name| name == column)
            .map(|i| &self.values[i])
            .ok_or_else(|| StoreError::Other(format!("no column {column}")))
    }

    fn opt<T>(&self, column: &str, read: impl FnOnce(&SqlValue) -> Option<T>) -> StoreResult<Option<T>> {
        match self.get(column)? {
            SqlValue::Null => Ok(None),
            value => read(value).map(Some).ok_or_else(|| mismatch(column, value)),
        }
    }

    fn required<T>(&self, column: &str, read: impl FnOnce(&SqlValue) -> Option<T>) -> StoreResult<T> {
        self.opt(column, read)?.ok_or_else(|| StoreError::Other(format!("column {column} is null")))
    }
}

fn mismatch(column: &str, value: &SqlValue) -> StoreError {
    StoreError::Other(format!("column {column}: unexpected {:?}", value.data_type()))
}

fn text(value: &SqlValue) -> Option<&str> {
    match value {
        SqlValue::Text(text) => Some(text),
        _ => None,
    }
}

fn uuid(value: &SqlValue) -> Option<Uuid> {
    text(value).and_then(|t| Uuid::parse_str(t).ok())
}

fn int(value: &SqlValue) -> Option<i64> {
    match value {
        SqlValue::Integer(n) => Some(*n),
        _ => None,
    }
}

/// Times as written by this store, and the other forms SQLite itself
/// writes (`datetime('now')`, seconds since the epoch).
fn time(value: &SqlValue) -> Option<Timestamp> {
    match value {
        SqlValue::Text(t) => DateTime::parse_from_rfc3339(t)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| NaiveDateTime::parse_from_str(t, "%F %T%.f").ok().map(|t| Utc.from_utc_datetime(&t))),
        SqlValue::Integer(seconds) => Utc.timestamp_opt(*seconds, 0).single(),
        _ => None,
    }
}

impl Row for Record {
    fn id(&self, column: &str) -> StoreResult<Uuid> {
        self.required(column, uuid)
    }
    fn opt_id(&self, column: &str) -> StoreResult<Option<Uuid>> {
        self.opt(column, uuid)
    }
    fn text(&self, column: &str) -> StoreResult<String> {
        self.required(column, |v| text(v).map(str::to_owned))
    }
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        self.opt(column, |v| text(v).map(str::to_owned))
    }
    fn int(&self, column: &str) -> StoreResult<i64> {
        self.required(column, int)
    }
    fn boolean(&self, column: &str) -> StoreResult<bool> {
        self.required(column, |v| int(v).map(|n| n != 0))
    }
    fn time(&self, column: &str) -> StoreResult<Timestamp> {
        self.required(column, time)
    }
    fn opt_time(&self, column: &str) -> StoreResult<Option<Timestamp>> {
        self.opt(column, time)
    }
    fn date(&self, column: &str) -> StoreResult<NaiveDate> {
        self.required(column, |v| text(v).and_then(|t| NaiveDate::parse_from_str(t, "%F").ok()))
    }
    fn json(&self, column: &str) -> StoreResult<Value> {
        match self.get(column)? {
            SqlValue::Text(t) => {
                serde_json::from_str(t).map_err(|e| StoreError::Other(format!("column {column}: {e}")))
            }
            SqlValue::Blob(b) => {
                serde_json::from_slice(b).map_err(|e| StoreError::Other(format!("column {column}: {e}")))
            }
            other => Err(mismatch(column, other)),
        }
    }
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>> {
        self.required(column, |v| match v {
            SqlValue::Blob(b) => Some(b.clone()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use basic_admin_store_sql::q;

    fn memory() -> rusqlite::Connection {
        rusqlite::Connection::open_in_memory().unwrap()
    }

    #[test]
    fn dollar_parameters_bind_by_number_wherever_they_appear() {
        let conn = memory();
        let row = fetch_all(&conn, q("SELECT $2 AS b, $1 AS a, $2 AS again").text("one").int(2)).unwrap();
        assert_eq!(row[0].int("b").unwrap(), 2);
        assert_eq!(row[0].text("a").unwrap(), "one");
        assert_eq!(row[0].int("again").unwrap(), 2);
        let missing = fetch_all(&conn, q("SELECT $3 AS c").text("one"));
        assert!(matches!(missing, Err(StoreError::Other(_))), "a parameter without a value is an error");
    }

    #[test]
    fn values_come_back_as_they_went_in() {
        let conn = memory();
        let id = Uuid::new_v4();
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 58).unwrap() + chrono::Duration::milliseconds(123);
        let day = NaiveDate::from_ymd_opt(2026, 2, 28).unwrap();
        let query = q("SELECT $1 AS id, $2 AS at, $3 AS day, $4 AS doc, $5 AS yes, $6 AS bytes, $7 AS empty")
            .id(id)
            .time(at)
            .date(day)
            .json(&serde_json::json!({"b": 1, "a": [true]}))
            .boolean(true)
            .bytes(b"\0\xff")
            .opt_text(None::<String>);
        let row = fetch_optional(&conn, query).unwrap().unwrap();
        assert_eq!(row.id("id").unwrap(), id);
        assert_eq!(row.text("id").unwrap(), id.hyphenated().to_string(), "UUIDs are stored hyphenated");
        assert_eq!(row.time("at").unwrap(), at);
        assert_eq!(row.text("at").unwrap(), "2026-11-30T23:59:58.123+00:00", "the form times have been stored in");
        assert_eq!(row.date("day").unwrap(), day);
        assert_eq!(row.json("doc").unwrap(), serde_json::json!({"b": 1, "a": [true]}));
        assert!(row.boolean("yes").unwrap());
        assert_eq!(row.bytes("bytes").unwrap(), b"\0\xff");
        assert_eq!(row.opt_text("empty").unwrap(), None);
        assert_eq!(row.opt_time("empty").unwrap(), None);
        assert!(row.text("empty").is_err(), "a required column that is null is an error");
        assert!(row.int("id").is_err(), "a column of another type is an error");
        assert!(row.text("absent").is_err());
    }

    #[test]
    fn times_written_by_sqlite_itself_are_read() {
        let conn = memory();
        let row = fetch_optional(&conn, q("SELECT '2026-01-02 03:04:05' AS a, 1767225600 AS b")).unwrap().unwrap();
        assert_eq!(row.time("a").unwrap(), Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap());
        assert_eq!(row.time("b").unwrap(), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    }

    #[test]
    fn execute_counts_changed_rows_even_with_returning() {
        let conn = memory();
        conn.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        assert_eq!(execute(&conn, q("INSERT INTO t VALUES (1), (2), (3)")).unwrap(), 3);
        assert_eq!(execute(&conn, q("UPDATE t SET n = n + 1 WHERE n > $1 RETURNING n").int(1)).unwrap(), 2);
        assert_eq!(fetch_all(&conn, q("SELECT n FROM t ORDER BY n")).unwrap().len(), 3);
    }
}
