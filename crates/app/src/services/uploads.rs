//! A project's images: its icon and its background. Each upload is checked
//! from its bytes (PNG, JPEG or WebP that really decode, at most
//! 8192×8192), stored under a new name, recorded with the project's profile
//! in one transaction, and only then is the file it replaces removed.

use std::io::Cursor;

use basic_admin_core::authz::Action;
use basic_admin_core::store::Upload;
use basic_admin_core::time;
use bytes::Bytes;
use image::{ImageFormat, ImageReader, Limits};
use uuid::Uuid;

use super::access;
use crate::Caller;
use crate::Context;
use crate::cache::Change;
use crate::error::{AppError, AppResult, Thing};

pub const MAX_SIDE: u32 = 8192;
/// The most a decode may allocate: the pixels of the largest image, RGBA.
const MAX_DECODE_BYTES: u64 = MAX_SIDE as u64 * MAX_SIDE as u64 * 4;
/// Decodes at once, on the blocking pool: each may hold [`MAX_DECODE_BYTES`].
static DECODES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Leave to upload into a project, given before its body is read: no one
/// without it makes the server read (or hold) a file.
pub struct UploadGrant {
    project: Uuid,
}

/// May the caller upload to the project? Checked before the body is read.
pub async fn may_upload(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<UploadGrant> {
    Ok(UploadGrant { project: access::project_id(ctx, caller, project_id, Action::Upload).await? })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Icon,
    Background,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Icon, Kind::Background];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Icon => "icon",
            Kind::Background => "background",
        }
    }

    /// The largest file accepted.
    pub fn max_bytes(self) -> usize {
        match self {
            Kind::Icon => 2 * 1024 * 1024,
            Kind::Background => 10 * 1024 * 1024,
        }
    }

    /// Where the project's profile shows its URL.
    pub fn profile_path(self) -> &'static [&'static str] {
        match self {
            Kind::Icon => &["icon_url"],
            Kind::Background => &["styles", "background_url"],
        }
    }
}

pub fn too_large(kind: Kind) -> AppError {
    AppError::TooLarge {
        code: "file_too_large",
        message: format!("A {} is at most {} MiB.", kind.name(), kind.max_bytes() / (1024 * 1024)),
    }
}

/// What the bytes are: the type and file extension of a PNG, JPEG or WebP
/// image that decodes whole, within [`MAX_SIDE`] on each side.
pub fn inspect(bytes: &[u8]) -> AppResult<(&'static str, &'static str)> {
    let (format, content_type, extension) = match image::guess_format(bytes) {
        Ok(ImageFormat::Png) => (ImageFormat::Png, "image/png", "png"),
        Ok(ImageFormat::Jpeg) => (ImageFormat::Jpeg, "image/jpeg", "jpg"),
        Ok(ImageFormat::WebP) => (ImageFormat::WebP, "image/webp", "webp"),
        _ => {
            return Err(AppError::UnsupportedType {
                code: "unsupported_image_type",
                message:
                    "Images are PNG, JPEG or WebP (decided from the file's bytes, whatever its name or type says)."
                        .into(),
            });
        }
    };
    let unreadable = |e: image::ImageError| {
        AppError::invalid("invalid_image", format!("The image cannot be read (truncated or corrupt?): {e}."))
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(unreadable)?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(AppError::invalid(
            "image_too_large",
            format!("Images are at most {MAX_SIDE}×{MAX_SIDE} pixels; this one is {width}×{height}."),
        ));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader.decode().map_err(unreadable)?;
    Ok((content_type, extension))
}

/// The public URL of a stored file.
pub fn file_url(ctx: &Context, object_key: &str) -> String {
    format!("{}/files/{object_key}", ctx.settings.public_url)
}

/// Stores `bytes` as the project's image of `kind`: its URL.
pub async fn upload(ctx: &Context, grant: UploadGrant, kind: Kind, bytes: Bytes) -> AppResult<String> {
    let project = grant.project;
    if bytes.len() > kind.max_bytes() {
        return Err(too_large(kind));
    }
    let inspected = bytes.clone();
    let permit = DECODES.acquire().await.map_err(AppError::internal)?;
    let (content_type, extension) =
        tokio::task::spawn_blocking(move || inspect(&inspected)).await.map_err(AppError::internal)??;
    drop(permit);
    let object_key = format!("projects/{}/{}-{}.{extension}", project.simple(), kind.name(), Uuid::now_v7().simple());
    let size = bytes.len() as i64;
    ctx.blobs.put(&object_key, bytes).await.map_err(AppError::internal)?;
    let url = file_url(ctx, &object_key);
    let upload = Upload {
        project_id: project,
        kind: kind.name().into(),
        object_key: object_key.clone(),
        content_type: content_type.into(),
        size,
        created_at: time::now(),
    };
    let previous = match ctx.store.record_upload(upload, kind.profile_path(), &url).await {
        Ok(previous) => previous,
        Err(e) => {
            // Not recorded: the new file must not stay behind.
            if let Err(cleanup) = ctx.blobs.delete(&object_key).await {
                tracing::warn!(error = %cleanup, object_key, "could not remove an unrecorded upload");
            }
            return Err(e.into());
        }
    };
    crate::cache::invalidate(ctx, Change::Project(project)).await;
    if let Some(previous) = previous {
        remove_file(ctx, &previous.object_key).await;
    }
    Ok(url)
}

/// Removes the project's image of `kind` (404 when it has none).
pub async fn delete(ctx: &Context, caller: &Caller, project_id: &str, kind: Kind) -> AppResult<()> {
    let project = access::project_id(ctx, caller, project_id, Action::Upload).await?;
    let Some(forgotten) = ctx.store.forget_upload(project, kind.name(), kind.profile_path()).await? else {
        return Err(AppError::NotFound(Thing::Upload(kind.name())));
    };
    crate::cache::invalidate(ctx, Change::Project(project)).await;
    remove_file(ctx, &forgotten.object_key).await;
    Ok(())
}

/// The project's images (every role may look).
pub async fn list(ctx: &Context, caller: &Caller, project_id: &str) -> AppResult<Vec<Upload>> {
    let project = access::project_id(ctx, caller, project_id, Action::ViewProject).await?;
    Ok(ctx.store.uploads(project).await?)
}

/// Removes a file no record points to any more. A failure leaves an orphan
/// behind (logged), never a broken image.
pub async fn remove_file(ctx: &Context, object_key: &str) {
    if let Err(e) = ctx.blobs.delete(object_key).await {
        tracing::warn!(error = %e, object_key, "could not remove a replaced or deleted file");
    }
}

/// Removes files that no record points to and that are older than
/// `older_than` (younger ones may belong to an upload still in flight): what
/// a crash between writing a file and recording it leaves behind. The number
/// removed.
pub async fn sweep_orphans(ctx: &Context, older_than: chrono::Duration) -> AppResult<usize> {
    let recorded: std::collections::HashSet<String> = ctx.store.upload_keys().await?.into_iter().collect();
    let files = ctx.blobs.list_dated("projects").await.map_err(AppError::internal)?;
    let cutoff = time::now() - older_than;
    let mut removed = 0;
    for (name, written) in files {
        if written < cutoff && !recorded.contains(&name) {
            remove_file(ctx, &name).await;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Sweeps orphan files at start and then every hour, until aborted.
pub fn spawn_sweeper(ctx: Context) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            ticks.tick().await;
            match sweep_orphans(&ctx, chrono::Duration::minutes(10)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed files no upload record points to"),
                Err(e) => tracing::warn!(error = %e, "could not sweep orphan files"),
            }
        }
    })
}

/// The type of a stored file, from a name that could be one (`GET /files/…`).
pub fn file_type(object_key: &str) -> AppResult<&'static str> {
    let content_type = match object_key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => "image/png",
        Some("jpg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => return Err(AppError::NotFound(Thing::File)),
    };
    if !object_key.starts_with("projects/") || object_key.split('/').any(|s| s.is_empty() || s == "..") {
        return Err(AppError::NotFound(Thing::File));
    }
    Ok(content_type)
}

/// A stored file's size.
pub async fn file_size(ctx: &Context, object_key: &str) -> AppResult<u64> {
    ctx.blobs.size(object_key).await.map_err(AppError::internal)?.ok_or(AppError::NotFound(Thing::File))
}

/// A stored file's bytes (within `range`), streamed as they are read.
pub async fn file_bytes(
    ctx: &Context,
    object_key: &str,
    range: Option<std::ops::Range<u64>>,
) -> AppResult<impl futures_util::Stream<Item = Result<Bytes, object_store::Error>> + use<>> {
    ctx.blobs.stream(object_key, range).await.map_err(AppError::internal)?.ok_or(AppError::NotFound(Thing::File))
}
