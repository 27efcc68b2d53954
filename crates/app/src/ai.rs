//! Schema suggestions from an OpenAI-compatible chat-completions API
//! (OpenAI, Ollama, vLLM, llama.cpp's server…).

use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::settings::AiConfig;

const INSTRUCTIONS: &str = "You design database schemas for apps built on Basic. Answer with one JSON object \
and nothing else: a Basic schema of the form {\"project_id\": string, \"version\": integer, \"tables\": {TABLE: \
{\"type\": \"collection\", \"fields\": {FIELD: {\"type\": \"string\"|\"boolean\"|\"number\"|\"json\", \
\"indexed\"?: boolean, \"required\"?: boolean}}}}}. Table and field names are 1 to 50 characters: a letter or \
digit, then letters, digits or underscores; never \"id\" (every item has one already), and unique ignoring \
case. Use json for lists and nested objects. When given an existing schema, change it as asked and keep the \
rest, and never change the type of an existing field.";

#[derive(Debug, thiserror::Error)]
pub enum AiError {
    #[error("the AI provider did not answer in time")]
    Timeout,
    #[error("the AI provider failed: {0}")]
    Provider(String),
}

/// Asks for a schema. `problems` (from an earlier answer) are sent back so
/// the model can correct itself. Returns the answer's text.
pub async fn suggest(
    config: &AiConfig,
    prompt: &str,
    current: Option<&Value>,
    problems: Option<&str>,
) -> Result<String, AiError> {
    crate::tls::install();
    let mut messages = vec![json!({"role": "system", "content": INSTRUCTIONS})];
    let mut ask = format!("The app: {prompt}");
    if let Some(current) = current {
        ask = format!("The current schema:\n{current}\n\nChange it as follows: {prompt}");
    }
    messages.push(json!({"role": "user", "content": ask}));
    if let Some(problems) = problems {
        messages.push(json!({"role": "user", "content": format!("That schema was not valid: {problems}. Answer again with a corrected schema only.")}));
    }
    let body = json!({
        "model": config.model,
        "messages": messages,
        "response_format": {"type": "json_object"},
        "temperature": 0.2,
    });
    let client =
        reqwest::Client::builder().timeout(config.timeout).build().map_err(|e| AiError::Provider(e.to_string()))?;
    let mut request = client.post(format!("{}/chat/completions", config.base_url)).json(&body);
    if let Some(key) = &config.api_key {
        request = request.bearer_auth(key.expose_secret());
    }
    let response = request
        .send()
        .await
        .map_err(|e| if e.is_timeout() { AiError::Timeout } else { AiError::Provider(e.to_string()) })?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|e| {
        if e.is_timeout() { AiError::Timeout } else { AiError::Provider(format!("unreadable answer ({status}): {e}")) }
    })?;
    if !status.is_success() {
        let detail = answer["error"]["message"].as_str().unwrap_or("no detail");
        return Err(AiError::Provider(format!("{status}: {detail}")));
    }
    answer["choices"][0]["message"]["content"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| AiError::Provider("the answer has no message content".into()))
}

/// The JSON object in a model's answer, with or without a code fence.
pub fn extract_json(text: &str) -> Option<Value> {
    let trimmed = text.trim();
    let unfenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(trimmed);
    if let Ok(value @ Value::Object(_)) = serde_json::from_str(unfenced.trim()) {
        return Some(value);
    }
    let (start, end) = (trimmed.find('{')?, trimmed.rfind('}')?);
    serde_json::from_str(&trimmed[start..=end]).ok().filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_json_in_an_answer() {
        assert_eq!(extract_json("{\"a\": 1}"), Some(json!({"a": 1})));
        assert_eq!(extract_json("```json\n{\"a\": 1}\n```"), Some(json!({"a": 1})));
        assert_eq!(extract_json("Here you go: {\"a\": {\"b\": 2}} Enjoy!"), Some(json!({"a": {"b": 2}})));
        assert_eq!(extract_json("no json here"), None);
        assert_eq!(extract_json("[1, 2]"), None);
    }
}
