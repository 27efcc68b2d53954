//! A project's icon and background image: shown as they are, replaced by
//! uploading a file (the form's token first, then the file), or removed.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use basic_admin_app::AppError;
use basic_admin_app::services::uploads::{self, Kind};
use basic_admin_core::store::Upload;
use maud::{Markup, html};

use super::errors::{Answer, Failure};
use super::layout::token;
use super::session::{Console, NoFields, Submitted};
use crate::routes::see_other;
use crate::state::AppState;

/// The largest form: a background image and the token.
pub const BODY_LIMIT: usize = 11 * 1024 * 1024;

fn kind(name: &str) -> Result<Kind, Failure> {
    Kind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| Failure::page(StatusCode::NOT_FOUND, "There is no such image."))
}

/// The images card of a project's page.
pub fn section(console: &Console, base: &str, images: &[Upload], may_upload: bool) -> Markup {
    html! {
        section class="card" aria-labelledby="images" {
            h2 id="images" { "Images" }
            div class="grid" {
                @for kind in Kind::ALL {
                    @let current = images.iter().find(|u| u.kind == kind.name());
                    div {
                        h3 { @if kind == Kind::Icon { "Icon" } @else { "Background" } }
                        @match current {
                            Some(upload) => {
                                img class={ "preview " (kind.name()) } src={ "/files/" (upload.object_key) }
                                    alt={ "The project's " (kind.name()) };
                            }
                            None => { p class="muted" { "None yet." } }
                        }
                        @if may_upload {
                            form method="post" action={ (base) "/images/" (kind.name()) } enctype="multipart/form-data" {
                                (token(console))
                                label for={ "file-" (kind.name()) } { "PNG, JPEG or WebP, at most " (kind.max_bytes() / (1024 * 1024)) " MiB" }
                                input id={ "file-" (kind.name()) } name="file" type="file" required
                                    accept="image/png,image/jpeg,image/webp";
                                button type="submit" { "Upload" }
                            }
                            @if current.is_some() {
                                form method="post" action={ (base) "/images/" (kind.name()) "/delete" }
                                    data-confirm={ "Remove the " (kind.name()) "?" } {
                                    (token(console))
                                    button class="link" type="submit" { "Remove the " (kind.name()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A refusal shown as a page with a way back to the project.
fn refused(e: AppError) -> Answer {
    Err(Failure::from(e))
}

pub async fn upload(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    console: Console,
    form: Result<Multipart, MultipartRejection>,
) -> Answer {
    let kind = kind(&name)?;
    let mut form = form
        .map_err(|e| Failure::page(StatusCode::BAD_REQUEST, &format!("The form cannot be read: {}.", e.body_text())))?;
    // The token comes first, so that nothing of a forged form is read.
    let first = form.next_field().await.ok().flatten();
    let token = match first {
        Some(field) if field.name() == Some("csrf") => field.text().await.unwrap_or_default(),
        _ => String::new(),
    };
    if !basic_admin_app::crypto::constant_time_eq(token.as_bytes(), console.token.as_bytes()) {
        return Err(Failure::page(StatusCode::FORBIDDEN, "This form has expired: reload the page and try again."));
    }
    let grant = match uploads::may_upload(&state.app, &console.caller, &id).await {
        Ok(grant) => grant,
        Err(e) => return refused(e),
    };
    let bytes = match crate::routes::uploads::file_part(form, kind).await {
        Ok(bytes) => bytes,
        Err(e) => return Ok(Failure::page(e.status, &e.message).into_response()),
    };
    match uploads::upload(&state.app, grant, kind, bytes).await {
        Ok(_) => Ok(see_other(&format!("/console/project/{id}"), vec![])),
        Err(e) => refused(e),
    }
}

pub async fn remove(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    Submitted { console, .. }: Submitted<NoFields>,
) -> Answer {
    let kind = kind(&name)?;
    match uploads::delete(&state.app, &console.caller, &id, kind).await {
        Ok(()) => Ok(see_other(&format!("/console/project/{id}"), vec![])),
        Err(e) => refused(e),
    }
}
