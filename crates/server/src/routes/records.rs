//! The shapes of users' records on the wire, shared by the developers'
//! routes (`users`) and the app's own (`app_data`).

use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use basic_admin_app::services::items::{self, Page};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoResponses, ToSchema};

use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorBody;

/// The shape of a page of records, for the OpenAPI document; answers are
/// written by [`ItemsPageBody`].
#[derive(Serialize, ToSchema)]
#[allow(dead_code)] // Documentation only.
pub(super) struct ItemsPage {
    /// Records: each value's fields and its `id`, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub data: Vec<Value>,
    /// Where the next page starts; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A page of records as [`ItemsPage`] describes it, written straight from
/// the stored text of each value: nothing is parsed and written again.
pub(super) struct ItemsPageBody(pub items::Page);

impl IntoResponse for ItemsPageBody {
    fn into_response(self) -> Response {
        let Page { items, next_cursor } = self.0;
        let mut body = String::with_capacity(items.iter().map(|i| i.value.len() + 64).sum::<usize>() + 48);
        body.push_str("{\"data\":[");
        for (n, item) in items.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            items::push_record(&mut body, item);
        }
        body.push_str("],\"next_cursor\":");
        body.push_str(&Value::from(next_cursor).to_string());
        body.push('}');
        ([(CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
    }
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
