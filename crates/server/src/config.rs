//! Configuration: built-in defaults < config file < environment < flags.
//!
//! Every option has a flag (`--listen`), an environment variable
//! (`BASIC_LISTEN`) and a key in the optional TOML file (`listen = "…"`).
//! Values are gathered as text from the three sources, the first one present
//! wins, and each is then parsed once, with errors that name its source.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use basic_admin_app::mail::MailSettings;
use basic_admin_app::services::sync::SyncLimits;
use basic_admin_app::settings::Settings;
pub use basic_admin_app::settings::{AiConfig, Throttles};
use secrecy::{ExposeSecret as _, SecretString};

/// Every option, declared once: its flag (`--listen`), environment variable
/// (`BASIC_LISTEN`), key in the TOML file (`listen`), placeholder, default
/// (`None`: computed from other options, or off) and help. The flags, the
/// file's keys and the lookup in that order of precedence are made from
/// this list; each value is then parsed once, in [`Config::resolve`].
macro_rules! options {
    ($(
        $(#[arg($($extra:tt)*)])?
        $name:ident: $value:literal, $env:literal, $default:expr, $help:literal;
    )*) => {
        /// The options of `serve`, `migrate` and the other commands, as flags.
        #[derive(Debug, Default, Clone, clap::Args)]
        pub struct Flags {
            /// TOML file with any of the options below (keys in snake_case) [env: BASIC_CONFIG]
            #[arg(long, value_name = "FILE")]
            pub config: Option<PathBuf>,
            $(
                #[arg(long, value_name = $value, help = concat!($help, " [env: ", $env, "]") $(, $($extra)*)?)]
                pub $name: Option<String>,
            )*
        }

        /// The file's options: the same names as the flags, in snake_case.
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct FileOptions {
            $($name: Option<toml::Value>,)*
        }

        /// Each option as found (flag, then variable, then file, then its
        /// default), with where it came from.
        struct Picked {
            $($name: Option<Sourced>,)*
        }

        #[cfg(test)]
        impl Picked {
            /// An option by its name.
            fn get(&self, name: &str) -> Option<&Sourced> {
                match name {
                    $(stringify!($name) => self.$name.as_ref(),)*
                    _ => None,
                }
            }
        }

        impl Sources<'_> {
            fn pick_all(&self, flags: Flags, file: FileOptions) -> Picked {
                Picked {
                    $($name: self
                        .pick(stringify!($name), $env, flags.$name, file.$name.map(toml_text))
                        .or_else(|| $default.map(Sourced::default_value)),)*
                }
            }
        }

        /// Every option: its name, variable and default, for the tests and `--help`.
        pub const OPTIONS: &[(&str, &str, Option<&str>)] = &[$((stringify!($name), $env, $default)),*];
    };
}

options! {
    listen: "ADDR", "BASIC_LISTEN", Some("0.0.0.0:3003"),
        "Address to listen on [default: 0.0.0.0:3003]";
    public_url: "URL", "BASIC_PUBLIC_URL", Some("http://localhost:3003"),
        "Public base URL, used in every absolute URL the server emits [default: http://localhost:3003]";
    data_dir: "DIR", "BASIC_DATA_DIR", Some("./data"),
        "Folder for the embedded database, uploads and the master key; created on start [default: ./data]";
    database_url: "URL", "BASIC_DATABASE_URL", None,
        "sqlite://… or postgres://… [default: SQLite file in the data folder]";
    storage: "URL", "BASIC_STORAGE", None,
        "Where uploaded files go: a folder, or s3://bucket/prefix [default: uploads/ in the data folder]";
    env: "NAME", "BASIC_ENV", Some("development"),
        "Name of this deployment, reported by GET / [default: development]";
    log_format: "FORMAT", "BASIC_LOG_FORMAT", Some("pretty"),
        "Log format: pretty or json [default: pretty]";
    log: "FILTER", "BASIC_LOG", Some("info"),
        "Log filter, e.g. info or basic_admin_server=debug,info [default: info]";
    max_body_bytes: "BYTES", "BASIC_MAX_BODY_BYTES", Some("2097152"),
        "Largest request body accepted, in bytes (uploads have their own limits) [default: 2097152]";
    request_timeout_secs: "SECS", "BASIC_REQUEST_TIMEOUT_SECS", Some("30"),
        "Seconds a request may take before it is answered 408 [default: 30]";
    db_max_connections: "N", "BASIC_DB_MAX_CONNECTIONS", Some("16"),
        "Connections in the PostgreSQL pool of this node [default: 16]";
    access_token_ttl_secs: "SECS", "BASIC_ACCESS_TOKEN_TTL_SECS", Some("3600"),
        "Lifetime of access and id tokens, in seconds [default: 3600]";
    refresh_token_ttl_days: "DAYS", "BASIC_REFRESH_TOKEN_TTL_DAYS", Some("30"),
        "Lifetime of refresh tokens, in days [default: 30]";
    refresh_grace_secs: "SECS", "BASIC_REFRESH_GRACE_SECS", Some("30"),
        "Seconds in which a just-rotated refresh token presented again (by a second tab or process) gets the same successor instead of revoking the sign-in; 0 turns this off [default: 30]";
    auth_code_ttl_secs: "SECS", "BASIC_AUTH_CODE_TTL_SECS", Some("60"),
        "Lifetime of authorization codes, in seconds, at most 60 [default: 60]";
    max_records_per_table: "N", "BASIC_MAX_RECORDS_PER_TABLE", Some("100000"),
        "Records one app user may keep in one table; a create beyond it answers 409 table_full [default: 100000]";
    sync_max_message_bytes: "BYTES", "BASIC_SYNC_MAX_MESSAGE_BYTES", Some("4194304"),
        "Largest message a sync client may send, in bytes; a larger one is refused with an error and the socket closed [default: 4194304]";
    sync_max_changes: "N", "BASIC_SYNC_MAX_CHANGES", Some("1000"),
        "Changes in one sync message (and held from partial messages until the set is complete) [default: 1000]";
    sync_connections_per_user: "N", "BASIC_SYNC_CONNECTIONS_PER_USER", Some("20"),
        "Open sync sockets one app user may have on one node [default: 20]";
    sync_idle_secs: "SECS", "BASIC_SYNC_IDLE_SECS", Some("60"),
        "Seconds a sync socket may stay silent (it is pinged at half of it) before it is closed [default: 60]";
    key_usage_flush_secs: "SECS", "BASIC_KEY_USAGE_FLUSH_SECS", Some("5"),
        "How often the last use of API keys is written to the database, in seconds [default: 5]";
    rate_limit_auth_per_minute: "N", "BASIC_RATE_LIMIT_AUTH_PER_MINUTE", Some("60"),
        "Requests per minute one client address may make to the sign-in, token and user/connect endpoints; 0 turns the limit off [default: 60]";
    rate_limit_schema_utils_per_minute: "N", "BASIC_RATE_LIMIT_SCHEMA_UTILS_PER_MINUTE", Some("120"),
        "Requests per minute one client address may make to the schema utilities (compareSchema, verifyUpdateSchema); 0 turns the limit off [default: 120]";
    sign_in_failures_per_account: "N", "BASIC_SIGN_IN_FAILURES_PER_ACCOUNT", Some("5"),
        "Failed sign-ins to one account from one client address before that pair must wait 15 minutes [default: 5]";
    sign_in_failures_per_address: "N", "BASIC_SIGN_IN_FAILURES_PER_ADDRESS", Some("20"),
        "Failed sign-ins from one client address, to any account, before its wrong passwords are answered 429 for 15 minutes [default: 20]";
    key_failures_per_address: "N", "BASIC_KEY_FAILURES_PER_ADDRESS", Some("20"),
        "Refused API keys from one client address in a minute before its further wrong keys are answered 429 [default: 20]";
    trusted_proxies: "CIDRS", "BASIC_TRUSTED_PROXIES", Some(""),
        "Reverse proxies whose Forwarded / X-Forwarded-For headers name the client: addresses or CIDR blocks, comma-separated [default: none]";
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    require_pkce: "BOOL", "BASIC_REQUIRE_PKCE", Some("false"),
        "Refuse authorization requests without a PKCE challenge (S256); the official CLI and SDK 0.5.0 send none [default: false]";
    smtp_url: "URL", "BASIC_SMTP_URL", None,
        "SMTP server for mail: smtp://[user:password@]host[:port] (add ?tls=required for STARTTLS) or smtps://…; credentials are never printed [default: none: mail off]";
    mail_from: "ADDRESS", "BASIC_MAIL_FROM", None,
        "Sender of the server's mail, e.g. \"Basic <no-reply@example.com>\" [default: no-reply@ the public URL's host]";
    #[arg(num_args = 0..=1, default_missing_value = "true")]
    require_admin_two_factor: "BOOL", "BASIC_REQUIRE_ADMIN_TWO_FACTOR", Some("false"),
        "Grant developer access (the admin scope) only to accounts with two-factor sign-in on [default: false]";
    ai_base_url: "URL", "BASIC_AI_BASE_URL", None,
        "OpenAI-compatible API for schema suggestions, e.g. https://api.openai.com/v1 or http://localhost:11434/v1; its key comes from BASIC_AI_API_KEY [default: none: suggestions off]";
    ai_model: "NAME", "BASIC_AI_MODEL", Some("gpt-4o-mini"),
        "Model to ask for schema suggestions [default: gpt-4o-mini]";
    ai_timeout_secs: "SECS", "BASIC_AI_TIMEOUT_SECS", Some("60"),
        "Seconds to wait for a suggestion [default: 60]";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// The resolved configuration. `Debug` hides secrets and database passwords.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Without a trailing slash.
    pub public_url: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub storage: String,
    pub env: String,
    pub log_format: LogFormat,
    pub log: String,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub db_max_connections: u32,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How long a rotated refresh token still gets its successor (0: not at all).
    pub refresh_grace: Duration,
    pub auth_code_ttl: Duration,
    /// Records one app user may keep in one table.
    pub max_records_per_table: u64,
    /// The limits of sync sockets.
    pub sync: SyncLimits,
    /// How long a key's `last_used` may lag.
    pub key_usage_flush: Duration,
    /// Requests per minute per client address; 0 is no limit.
    pub rate_limit_auth_per_minute: u32,
    pub rate_limit_schema_utils_per_minute: u32,
    /// The failure throttles (see `auth::throttle`).
    pub throttles: Throttles,
    /// Peers whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub require_pkce: bool,
    pub require_admin_two_factor: bool,
    /// Where schema suggestions come from; `None` turns them off.
    pub ai: Option<AiConfig>,
    /// Where mail goes out; `None` turns mail off.
    pub mail: Option<MailSettings>,
    /// `BASIC_MASTER_KEY`; when absent, the key file in the data folder is used.
    pub master_key: Option<SecretString>,
    /// The [`STORAGE_VARIABLES`] set in the environment, for `s3://` storage.
    pub storage_env: Vec<(String, SecretString)>,
}

/// The environment variables that configure S3-compatible storage (as the
/// AWS tools name them).
pub const STORAGE_VARIABLES: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT",
    "AWS_ALLOW_HTTP",
    "AWS_VIRTUAL_HOSTED_STYLE_REQUEST",
];

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// What the use-cases read of it.
    pub fn settings(&self) -> Settings {
        Settings {
            public_url: self.public_url.clone(),
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            refresh_grace: self.refresh_grace,
            max_records_per_table: self.max_records_per_table,
            sync: self.sync,
            auth_code_ttl: self.auth_code_ttl,
            require_pkce: self.require_pkce,
            require_admin_two_factor: self.require_admin_two_factor,
            throttles: self.throttles,
            ai: self.ai.clone(),
        }
    }

    /// Resolves the configuration from flags, the process environment and
    /// the config file they name.
    pub fn load(flags: Flags) -> Result<Self, ConfigError> {
        Self::resolve(flags, &|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`Config::load`] with the environment given as a lookup, for tests.
    pub fn resolve(flags: Flags, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file_path = flags.config.clone().or_else(|| env("BASIC_CONFIG").map(PathBuf::from));
        let file = match &file_path {
            Some(path) => read_file(path)?,
            None => FileOptions::default(),
        };
        let p = Sources { env, file_path: file_path.as_deref() }.pick_all(flags, file);
        let given = |o: Option<Sourced>| o.expect("an option with a default");
        let secs = |v: &str| positive(v).map(Duration::from_secs);

        let data_dir = PathBuf::from(given(p.data_dir).value);
        let public_url = given(p.public_url).parse_with(parse_public_url)?;
        let default_db = format!("sqlite://{}", data_dir.join("basic-admin.db").display());
        let default_storage = data_dir.join("uploads").display().to_string();
        Ok(Config {
            listen: given(p.listen).parse_with(|v| v.parse::<SocketAddr>().map_err(|e| e.to_string()))?,
            public_url: public_url.clone(),
            database_url: p.database_url.map_or(default_db, |v| v.value),
            storage: p.storage.map_or(default_storage, |v| v.value),
            env: given(p.env).value,
            log_format: given(p.log_format).parse_with(|v| match v {
                "pretty" => Ok(LogFormat::Pretty),
                "json" => Ok(LogFormat::Json),
                _ => Err("expected pretty or json".into()),
            })?,
            log: given(p.log).value,
            max_body_bytes: given(p.max_body_bytes).parse_with(positive)?,
            request_timeout: given(p.request_timeout_secs).parse_with(secs)?,
            db_max_connections: given(p.db_max_connections).parse_with(positive)?,
            access_token_ttl: given(p.access_token_ttl_secs).parse_with(secs)?,
            refresh_token_ttl: given(p.refresh_token_ttl_days)
                .parse_with(|v| positive::<u64>(v).map(|d| Duration::from_secs(d * 86_400)))?,
            refresh_grace: given(p.refresh_grace_secs)
                .parse_with(|v| whole(v).map(|s| Duration::from_secs(s.into())))?,
            auth_code_ttl: given(p.auth_code_ttl_secs).parse_with(|v| match positive::<u64>(v)? {
                secs @ 1..=60 => Ok(Duration::from_secs(secs)),
                _ => Err("at most 60 seconds".into()),
            })?,
            key_usage_flush: given(p.key_usage_flush_secs).parse_with(secs)?,
            max_records_per_table: given(p.max_records_per_table).parse_with(positive)?,
            sync: SyncLimits {
                max_frame_bytes: given(p.sync_max_message_bytes).parse_with(positive)?,
                max_changes: given(p.sync_max_changes).parse_with(positive)?,
                connections_per_user: given(p.sync_connections_per_user).parse_with(positive)?,
                idle_timeout: given(p.sync_idle_secs).parse_with(secs)?,
            },
            rate_limit_auth_per_minute: given(p.rate_limit_auth_per_minute).parse_with(whole)?,
            rate_limit_schema_utils_per_minute: given(p.rate_limit_schema_utils_per_minute).parse_with(whole)?,
            throttles: Throttles {
                sign_in_per_account: given(p.sign_in_failures_per_account).parse_with(positive)?,
                sign_in_per_address: given(p.sign_in_failures_per_address).parse_with(positive)?,
                keys_per_address: given(p.key_failures_per_address).parse_with(positive)?,
            },
            trusted_proxies: given(p.trusted_proxies).parse_with(crate::client_addr::parse_trusted)?,
            require_pkce: given(p.require_pkce).parse_with(boolean)?,
            require_admin_two_factor: given(p.require_admin_two_factor).parse_with(boolean)?,
            ai: match p.ai_base_url {
                None => None,
                Some(url) => Some(AiConfig {
                    base_url: url.parse_with(|v| {
                        let v = v.trim().trim_end_matches('/');
                        if v.starts_with("http://") || v.starts_with("https://") {
                            Ok(v.to_owned())
                        } else {
                            Err("expected an http:// or https:// URL".to_owned())
                        }
                    })?,
                    api_key: env("BASIC_AI_API_KEY").map(SecretString::from),
                    model: given(p.ai_model).value,
                    timeout: given(p.ai_timeout_secs).parse_with(secs)?,
                }),
            },
            mail: match p.smtp_url {
                None => None,
                Some(url) => Some(MailSettings {
                    smtp_url: url.parse_with(|v| {
                        if v.starts_with("smtp://") || v.starts_with("smtps://") {
                            Ok(SecretString::from(v.to_owned()))
                        } else {
                            Err("expected an smtp:// or smtps:// URL".to_owned())
                        }
                    })?,
                    from: p.mail_from.map(|v| v.value).unwrap_or_else(|| default_sender(&public_url)),
                }),
            },
            master_key: env("BASIC_MASTER_KEY").map(SecretString::from),
            storage_env: STORAGE_VARIABLES
                .iter()
                .filter_map(|name| env(name).map(|value| (name.to_string(), SecretString::from(value))))
                .collect(),
            data_dir,
        })
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres://") || self.database_url.starts_with("postgresql://")
    }
}

/// `no-reply@` the public URL's host (without its port).
fn default_sender(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    format!("no-reply@{}", host.trim_matches(['[', ']']))
}

fn read_file(path: &Path) -> Result<FileOptions, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| ConfigError(format!("config file {}: {e}", path.display())))
}

/// Where values come from, below the flags.
struct Sources<'a> {
    env: &'a dyn Fn(&str) -> Option<String>,
    file_path: Option<&'a Path>,
}

/// A value and where it came from, for error messages.
struct Sourced {
    value: String,
    source: String,
}

impl Sourced {
    fn default_value(value: &str) -> Self {
        Sourced { value: value.to_owned(), source: "the default".into() }
    }
}

impl Sourced {
    fn parse_with<T>(self, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        parse(&self.value).map_err(|e| ConfigError(format!("invalid value {:?} from {}: {e}", self.value, self.source)))
    }
}

impl Sources<'_> {
    fn pick(&self, key: &str, env_name: &str, flag: Option<String>, file: Option<String>) -> Option<Sourced> {
        if let Some(value) = flag {
            return Some(Sourced { value, source: format!("--{}", key.replace('_', "-")) });
        }
        if let Some(value) = (self.env)(env_name) {
            return Some(Sourced { value, source: env_name.to_owned() });
        }
        let path = self.file_path.map(|p| p.display().to_string()).unwrap_or_default();
        file.map(|value| Sourced { value, source: format!("{key} in {path}") })
    }
}

fn positive<T: std::str::FromStr + Default + PartialOrd>(v: &str) -> Result<T, String> {
    match v.trim().parse::<T>() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err("expected a positive whole number".into()),
    }
}

fn boolean(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// A file's value as the text a flag or variable would give: strings as
/// they are, numbers and booleans written out, lists comma-separated.
fn toml_text(value: toml::Value) -> String {
    match value {
        toml::Value::String(s) => s,
        toml::Value::Array(items) => items.into_iter().map(toml_text).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn whole(v: &str) -> Result<u32, String> {
    v.trim().parse().map_err(|_| "expected a whole number (0 or more)".into())
}

fn parse_public_url(v: &str) -> Result<String, String> {
    let url = v.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or("expected an http:// or https:// URL")?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err("expected a base URL with a host and no query or fragment".into());
    }
    Ok(url.to_owned())
}

/// A URL with its credentials hidden: the password of `user:secret@host`
/// and the value of any query parameter that carries one (`password`,
/// `sslpassword`, `secret`, `token`, keys…) become `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = rest.split_once('?').map_or((rest, None), |(a, q)| (a, Some(q)));
    let (authority, path) = before_query.split_once('/').map_or((before_query, None), |(a, p)| (a, Some(p)));
    let mut redacted = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{userinfo}@{host}"),
        },
        None => format!("{scheme}://{authority}"),
    };
    if let Some(path) = path {
        redacted.push('/');
        redacted.push_str(path);
    }
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if is_secret_parameter(name) => format!("{name}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "key", "credential", "auth"].iter().any(|word| name.contains(word))
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut values = BTreeMap::new();
        values.insert("listen", self.listen.to_string());
        values.insert("public_url", self.public_url.clone());
        values.insert("data_dir", self.data_dir.display().to_string());
        values.insert("database_url", redact_url(&self.database_url));
        values.insert("storage", redact_url(&self.storage));
        values.insert("env", self.env.clone());
        values.insert("log_format", format!("{:?}", self.log_format));
        values.insert("log", self.log.clone());
        values.insert("max_body_bytes", self.max_body_bytes.to_string());
        values.insert("request_timeout", format!("{:?}", self.request_timeout));
        values.insert("db_max_connections", self.db_max_connections.to_string());
        values.insert("access_token_ttl", format!("{:?}", self.access_token_ttl));
        values.insert("refresh_token_ttl", format!("{:?}", self.refresh_token_ttl));
        values.insert("refresh_grace", format!("{:?}", self.refresh_grace));
        values.insert("max_records_per_table", self.max_records_per_table.to_string());
        values.insert("auth_code_ttl", format!("{:?}", self.auth_code_ttl));
        values.insert("sync", format!("{:?}", self.sync));
        values.insert("key_usage_flush", format!("{:?}", self.key_usage_flush));
        values.insert("rate_limit_auth_per_minute", self.rate_limit_auth_per_minute.to_string());
        values.insert("rate_limit_schema_utils_per_minute", self.rate_limit_schema_utils_per_minute.to_string());
        values.insert("throttles", format!("{:?}", self.throttles));
        let proxies: Vec<String> = self.trusted_proxies.iter().map(ToString::to_string).collect();
        values.insert("trusted_proxies", proxies.join(","));
        values.insert("require_pkce", self.require_pkce.to_string());
        values.insert("require_admin_two_factor", self.require_admin_two_factor.to_string());
        let ai = self.ai.as_ref().map_or_else(|| "off".to_owned(), |ai| format!("{} ({})", ai.base_url, ai.model));
        values.insert("ai", ai);
        let mail = self.mail.as_ref().map_or_else(
            || "off".to_owned(),
            |m| format!("{} from {}", redact_url(m.smtp_url.expose_secret()), m.from),
        );
        values.insert("mail", mail);
        let key = if self.master_key.is_some() { "from BASIC_MASTER_KEY" } else { "from the data folder" };
        values.insert("master_key", key.to_owned());
        let storage_env: Vec<&str> = self.storage_env.iter().map(|(name, _)| name.as_str()).collect();
        values.insert("storage_env", storage_env.join(","));
        f.debug_map().entries(values).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(flags: Flags, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::resolve(flags, &move |name| env.get(name).cloned())
    }

    /// Every option has a flag, a variable and a key in the file, each
    /// found by its name, and its help says its variable and default.
    #[test]
    fn every_option_has_a_flag_a_variable_and_a_file_key() {
        use clap::CommandFactory as _;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            flags: Flags,
        }
        let command = Cli::command();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("all.toml");
        let toml: String = OPTIONS.iter().map(|(name, _, _)| format!("{name} = \"from-file\"\n")).collect();
        std::fs::write(&file, toml).unwrap();
        let from_file = Flags { config: Some(file.clone()), ..Flags::default() };
        let sources = Sources { env: &|_| None, file_path: Some(&file) };
        let in_file = sources.pick_all(from_file, read_file(&file).unwrap());
        let env_names: Vec<&str> = OPTIONS.iter().map(|(_, env, _)| *env).collect();
        let from_env = |name: &str| env_names.contains(&name).then(|| "from-env".to_owned());
        let sources = Sources { env: &from_env, file_path: None };
        let in_env = sources.pick_all(Flags::default(), FileOptions::default());
        let found = |picked: &Picked| -> Vec<Option<String>> {
            OPTIONS.iter().map(|(name, _, _)| picked.get(name).map(|s| s.source.clone())).collect()
        };
        for flag in command.get_arguments().filter_map(|a| a.get_long()).filter(|long| *long != "config") {
            let declared = OPTIONS.iter().any(|(name, _, _)| name.replace('_', "-") == flag);
            assert!(declared, "--{flag} is not declared in options! (no variable, no file key)");
        }
        for (((name, env, default), file_source), env_source) in OPTIONS.iter().zip(found(&in_file)).zip(found(&in_env))
        {
            assert_eq!(*env, format!("BASIC_{}", name.to_ascii_uppercase()), "{name}'s variable");
            let flag = command.get_arguments().find(|a| a.get_long() == Some(&name.replace('_', "-")));
            let help = flag.unwrap_or_else(|| panic!("--{name} is not a flag")).get_help().unwrap().to_string();
            assert!(help.contains(&format!("[env: {env}]")), "{name}: {help}");
            if let Some(default) = default {
                let shown = if default.is_empty() { "none" } else { default };
                assert!(help.contains(&format!("[default: {shown}]")), "{name}'s help must say its default: {help}");
            }
            assert_eq!(
                file_source.as_deref(),
                Some(format!("{name} in {}", file.display()).as_str()),
                "{name} in the file"
            );
            assert_eq!(env_source.as_deref(), Some(*env), "{name} from the environment");
        }
    }

    #[test]
    fn defaults() {
        let c = resolve(Flags::default(), &[]).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:3003");
        assert_eq!(c.public_url, "http://localhost:3003");
        assert_eq!(c.data_dir, PathBuf::from("./data"));
        assert_eq!(c.database_url, "sqlite://./data/basic-admin.db");
        assert_eq!(c.storage, "./data/uploads");
        assert_eq!(c.env, "development");
        assert_eq!(c.log_format, LogFormat::Pretty);
        assert_eq!(c.max_body_bytes, 2 * 1024 * 1024);
        assert!(!c.is_postgres());
        assert_eq!(c.access_token_ttl, Duration::from_secs(3600));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(30 * 86_400));
        assert_eq!(c.auth_code_ttl, Duration::from_secs(60));
        assert_eq!((c.rate_limit_auth_per_minute, c.rate_limit_schema_utils_per_minute), (60, 120));
        assert_eq!(c.throttles, Throttles::default());
        assert!(c.trusted_proxies.is_empty() && !c.require_pkce);
    }

    #[test]
    fn rate_limits_may_be_turned_off_but_not_made_negative() {
        let c = resolve(Flags::default(), &[("BASIC_RATE_LIMIT_AUTH_PER_MINUTE", "0")]).unwrap();
        assert_eq!(c.rate_limit_auth_per_minute, 0);
        let err =
            resolve(Flags::default(), &[("BASIC_RATE_LIMIT_SCHEMA_UTILS_PER_MINUTE", "-1")]).unwrap_err().to_string();
        assert!(err.contains("BASIC_RATE_LIMIT_SCHEMA_UTILS_PER_MINUTE"), "{err}");
    }

    #[test]
    fn proxies_pkce_and_throttles_come_from_every_source() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nrequire_pkce = true\n").unwrap();
        let c = resolve(Flags { config: Some(file), ..Flags::default() }, &[]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert!(c.require_pkce);
        let c = resolve(
            Flags::default(),
            &[
                ("BASIC_TRUSTED_PROXIES", "127.0.0.1"),
                ("BASIC_REQUIRE_PKCE", "false"),
                ("BASIC_KEY_FAILURES_PER_ADDRESS", "50"),
            ],
        )
        .unwrap();
        assert_eq!(c.trusted_proxies[0].to_string(), "127.0.0.1/32");
        assert!(!c.require_pkce);
        assert_eq!(c.throttles.keys_per_address, 50);
        let flags = Flags { trusted_proxies: Some("not-an-ip".into()), ..Flags::default() };
        assert!(resolve(flags, &[]).unwrap_err().to_string().contains("--trusted-proxies"));
        let err = resolve(Flags::default(), &[("BASIC_SIGN_IN_FAILURES_PER_ACCOUNT", "0")]).unwrap_err().to_string();
        assert!(err.contains("positive"), "{err}");
    }

    #[test]
    fn authorization_codes_live_at_most_a_minute() {
        let err = resolve(Flags::default(), &[("BASIC_AUTH_CODE_TTL_SECS", "61")]).unwrap_err().to_string();
        assert!(err.contains("at most 60"), "{err}");
        let c = resolve(Flags::default(), &[("BASIC_AUTH_CODE_TTL_SECS", "1")]).unwrap();
        assert_eq!(c.auth_code_ttl, Duration::from_secs(1));
    }

    #[test]
    fn flags_beat_environment_beats_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("basic-admin.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\nenv = \"from-file\"\npublic_url = \"https://file.example\"\nmax_body_bytes = 10\n",
        )
        .unwrap();
        let flags = Flags { config: Some(file), listen: Some("127.0.0.1:3".into()), ..Flags::default() };
        let c = resolve(flags, &[("BASIC_LISTEN", "127.0.0.1:2"), ("BASIC_ENV", "from-env")]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:3", "flag wins over env and file");
        assert_eq!(c.env, "from-env", "env wins over file");
        assert_eq!(c.public_url, "https://file.example", "file wins over default");
        assert_eq!(c.max_body_bytes, 10, "numbers may be TOML integers");
        assert_eq!(c.request_timeout, Duration::from_secs(30), "default where no source has it");
    }

    #[test]
    fn config_file_may_come_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "env = \"staging\"\n").unwrap();
        let c = resolve(Flags::default(), &[("BASIC_CONFIG", file.to_str().unwrap())]).unwrap();
        assert_eq!(c.env, "staging");
    }

    #[test]
    fn data_dir_moves_the_embedded_defaults() {
        let flags = Flags { data_dir: Some("/var/lib/ba".into()), ..Flags::default() };
        let c = resolve(flags, &[]).unwrap();
        assert_eq!(c.database_url, "sqlite:///var/lib/ba/basic-admin.db");
        assert_eq!(c.storage, "/var/lib/ba/uploads");
    }

    #[test]
    fn bad_values_name_their_source() {
        let err = resolve(Flags::default(), &[("BASIC_LISTEN", "nowhere")]).unwrap_err().to_string();
        assert!(err.contains("BASIC_LISTEN"), "{err}");
        let flags = Flags { public_url: Some("ftp://x".into()), ..Flags::default() };
        let err = resolve(flags, &[]).unwrap_err().to_string();
        assert!(err.contains("--public-url"), "{err}");
        let err = resolve(Flags::default(), &[("BASIC_MAX_BODY_BYTES", "0")]).unwrap_err().to_string();
        assert!(err.contains("positive"), "{err}");
        let err = resolve(Flags::default(), &[("BASIC_LOG_FORMAT", "xml")]).unwrap_err().to_string();
        assert!(err.contains("pretty or json"), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let flags = Flags { config: Some(file), ..Flags::default() };
        assert!(resolve(flags, &[]).unwrap_err().to_string().contains("lisen"));
    }

    #[test]
    fn public_url_loses_its_trailing_slash() {
        let flags = Flags { public_url: Some("https://api.example.com/".into()), ..Flags::default() };
        assert_eq!(resolve(flags, &[]).unwrap().public_url, "https://api.example.com");
    }

    #[test]
    fn every_form_of_credential_is_redacted() {
        for (url, shown) in [
            ("postgres://app:hunter2@db/main", "postgres://app:***@db/main"),
            ("postgres://app@db/main?password=hunter2", "postgres://app@db/main?password=***"),
            (
                "postgresql://db/main?user=app&sslpassword=hunter2&sslmode=verify-full",
                "postgresql://db/main?user=app&sslpassword=***&sslmode=verify-full",
            ),
            ("postgres://db?PASSWORD=hunter2", "postgres://db?PASSWORD=***"),
            (
                "s3://bucket/prefix?access_key_id=AKIA&secret_access_key=hunter2",
                "s3://bucket/prefix?access_key_id=***&secret_access_key=***",
            ),
            ("sqlite://./data/basic-admin.db?mode=rwc", "sqlite://./data/basic-admin.db?mode=rwc"),
            ("./data/uploads", "./data/uploads"),
        ] {
            assert_eq!(redact_url(url), shown, "{url}");
            assert!(!redact_url(url).contains("hunter2"));
        }
    }

    #[test]
    fn debug_hides_secrets() {
        let flags = Flags { database_url: Some("postgres://app:hunter2@db:5432/main".into()), ..Flags::default() };
        let c = resolve(flags, &[("BASIC_MASTER_KEY", "c2VjcmV0")]).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("c2VjcmV0"), "{shown}");
        assert!(shown.contains("postgres://app:***@db:5432/main"), "{shown}");
        assert!(c.is_postgres());
    }

    #[test]
    fn mail_is_off_unless_an_smtp_url_is_given_and_its_password_is_never_shown() {
        let off = resolve(Flags::default(), &[]).unwrap();
        assert!(off.mail.is_none() && format!("{off:?}").contains("\"mail\": \"off\""));
        let flags = Flags {
            public_url: Some("https://api.example.com:8443".into()),
            smtp_url: Some("smtps://mailer:hunter2@smtp.example.com:465".into()),
            ..Flags::default()
        };
        let on = resolve(flags, &[]).unwrap();
        assert_eq!(on.mail.as_ref().unwrap().from, "no-reply@api.example.com");
        let shown = format!("{on:?}");
        assert!(!shown.contains("hunter2") && shown.contains("smtps://mailer:***@smtp.example.com:465"), "{shown}");
        let wrong = Flags { smtp_url: Some("http://smtp.example.com".into()), ..Flags::default() };
        assert!(resolve(wrong, &[]).is_err_and(|e| e.to_string().contains("smtp:// or smtps://")));
        let from = Flags {
            smtp_url: Some("smtp://localhost:2525".into()),
            mail_from: Some("Basic <hello@example.com>".into()),
            ..Flags::default()
        };
        assert_eq!(resolve(from, &[]).unwrap().mail.unwrap().from, "Basic <hello@example.com>");
    }
}
