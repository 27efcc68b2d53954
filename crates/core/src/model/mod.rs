//! Values that are validated once, when they are parsed, and trusted afterwards.

pub mod account;
pub mod api_key;
pub mod item_id;
pub mod slug;

pub use account::{Account, AccountFieldError, Email, Username};
pub use item_id::{ItemId, ItemIdError};
pub use slug::{Slug, SlugError, slugify};
