//! The shapes of users' records on the wire, shared by the developers'
//! routes (`users`) and the app's own (`app_data`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoResponses, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;

#[derive(Serialize, ToSchema)]
pub(super) struct ItemsPage {
    /// Records: each value's fields and its `id`, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<Value>,
    /// Where the next page starts; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub(super) struct ItemBody {
    /// The record's fields. On create, an `id` (a string of 1 to 128
    /// characters, no `/`) is the record's id; without one the server makes
    /// one. Needed (the contract leaves it optional; without it, 400).
    #[schema(value_type = Object, required = false)]
    value: Option<Value>,
}

impl ItemBody {
    pub fn value(self) -> ApiResult<Value> {
        self.value.ok_or_else(|| ApiError::bad_request("missing_value", "Give the record's fields in `value`."))
    }
}

/// What a write of a record may answer besides the access errors.
#[derive(IntoResponses)]
#[allow(dead_code)] // Documentation only: handlers answer ApiError.
pub(super) enum ItemWriteErrors {
    #[response(status = 400, description = "No schema, no such table, a bad id, or the value does not fit")]
    Invalid(ErrorBody),
    #[response(
        status = 409,
        description = "`item_exists`: a new record's id is taken; `table_full`: the user's table holds the most items it may"
    )]
    Conflict(ErrorBody),
    #[response(status = 413, description = "Larger than 256 KiB")]
    TooLarge(ErrorBody),
}

#[derive(Serialize, ToSchema)]
pub(super) struct Record {
    /// The value's fields and its `id`.
    #[schema(value_type = Object)]
    pub data: Value,
}
