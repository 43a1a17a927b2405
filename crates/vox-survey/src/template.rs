//! Prompt styles as template files (TOML): how a persona and a question become a chat prompt.
//!
//! A template has a `name`, a `description`, an optional `system` message, a `user` message
//! with placeholders, an optional `joiner` (default `"\n"`) and a `[phrases]` table that says
//! how each persona attribute is described (`party = "In politics today, I consider myself a
//! {value}."`). Placeholders:
//! - `{{question}}`: the question text; `{{options}}`: the options as `A. …` lines;
//! - `{{persona}}`: the phrases of the persona's attributes, joined with `joiner` (attributes
//!   without a phrase read `name: value`);
//! - `{{attr.NAME}}`: one attribute's value (an error when the persona lacks it);
//! - `{{backstory}}`: the persona's backstory (an error when it has none);
//! - `{{instructions}}`: the answer instructions of the elicitation method.
//!
//! The built-in styles live in `crates/vox-survey/templates/`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use vox_core::{Persona, Question};

use crate::error::{Result, SurveyError};

/// A parsed prompt template.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptTemplate {
    /// Short name, e.g. `opinionqa-bio`.
    pub name: String,
    /// One line on what the style is.
    pub description: String,
    /// Optional system message.
    pub system: Option<String>,
    /// The user message with placeholders.
    pub user: String,
    /// How attribute phrases are joined in `{{persona}}`.
    pub joiner: String,
    /// Attribute name → phrase with `{value}`.
    pub phrases: BTreeMap<String, String>,
    /// sha256 (hex) of the template file's text, for run manifests.
    pub sha256: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    name: String,
    #[serde(default)]
    description: String,
    system: Option<String>,
    user: String,
    joiner: Option<String>,
    #[serde(default)]
    phrases: BTreeMap<String, String>,
}

/// The built-in styles: (name, file text).
pub const BUILTIN: [(&str, &str); 5] = [
    (
        "opinionqa-qa",
        include_str!("../templates/opinionqa-qa.toml"),
    ),
    (
        "opinionqa-bio",
        include_str!("../templates/opinionqa-bio.toml"),
    ),
    (
        "opinionqa-portray",
        include_str!("../templates/opinionqa-portray.toml"),
    ),
    (
        "globalopinionqa-country",
        include_str!("../templates/globalopinionqa-country.toml"),
    ),
    ("backstory", include_str!("../templates/backstory.toml")),
];

const PLACEHOLDERS: [&str; 5] = [
    "question",
    "options",
    "persona",
    "backstory",
    "instructions",
];

impl PromptTemplate {
    /// Parses template text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let file: TemplateFile = toml::from_str(text).map_err(|e| SurveyError::Template {
            name: origin.to_string(),
            message: e.to_string(),
        })?;
        let template = Self {
            name: file.name,
            description: file.description,
            system: file.system,
            user: file.user,
            joiner: file.joiner.unwrap_or_else(|| "\n".to_string()),
            phrases: file.phrases,
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
        };
        for part in [Some(&template.user), template.system.as_ref()]
            .into_iter()
            .flatten()
        {
            for name in placeholders(part) {
                if !PLACEHOLDERS.contains(&name.as_str()) && !name.starts_with("attr.") {
                    return Err(SurveyError::Template {
                        name: origin.to_string(),
                        message: format!("unknown placeholder {{{{{name}}}}}; use one of {PLACEHOLDERS:?} or attr.NAME"),
                    });
                }
            }
        }
        Ok(template)
    }

    /// A built-in style by name, or a template file by path.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some((name, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Self::parse(text, name);
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return Err(SurveyError::Template {
                name: name_or_path.to_string(),
                message: format!(
                    "neither a built-in style ({}) nor an existing file",
                    names.join(", ")
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|e| SurveyError::io(path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The persona described with this template's phrases.
    pub fn describe(&self, persona: &Persona) -> String {
        persona
            .attributes
            .iter()
            .map(|(name, value)| match self.phrases.get(name) {
                Some(phrase) => phrase.replace("{value}", value),
                None => format!("{name}: {value}"),
            })
            .collect::<Vec<_>>()
            .join(&self.joiner)
    }

    /// Renders (system, user) for one persona and question.
    pub fn render(
        &self,
        persona: &Persona,
        question: &Question,
        instructions: &str,
    ) -> Result<(Option<String>, String)> {
        let system = match &self.system {
            Some(s) => Some(self.fill(s, persona, question, instructions)?),
            None => None,
        };
        Ok((
            system,
            self.fill(&self.user, persona, question, instructions)?,
        ))
    }

    fn fill(
        &self,
        text: &str,
        persona: &Persona,
        question: &Question,
        instructions: &str,
    ) -> Result<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| self.error("a `{{` is not closed"))?;
            let name = after[..end].trim();
            let value = match name {
                "question" => question.text.clone(),
                "options" => option_lines(&question.options),
                "persona" => self.describe(persona),
                "instructions" => instructions.to_string(),
                "backstory" => persona.backstory.clone().ok_or_else(|| {
                    self.error(&format!("persona {:?} has no backstory (generate one with `vox survey backstories`)", persona.id))
                })?,
                other => {
                    let attribute = other.strip_prefix("attr.").unwrap_or(other);
                    persona.attributes.get(attribute).cloned().ok_or_else(|| {
                        self.error(&format!("persona {:?} has no attribute {attribute:?}", persona.id))
                    })?
                }
            };
            out.push_str(&value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out.trim().to_string())
    }

    fn error(&self, message: &str) -> SurveyError {
        SurveyError::Template {
            name: self.name.clone(),
            message: message.to_string(),
        }
    }
}

fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    out
}

/// The letter of option `index`: `A`, `B`, … (`Z` is the last; surveys have fewer options).
pub fn option_letter(index: usize) -> String {
    char::from(b'A' + (index.min(25)) as u8).to_string()
}

/// Options as `A. text` lines.
pub fn option_lines(options: &[String]) -> String {
    options
        .iter()
        .enumerate()
        .map(|(i, o)| format!("{}. {o}", option_letter(i)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persona() -> Persona {
        Persona {
            id: "p".into(),
            attributes: [
                ("party".to_string(), "Democrat".to_string()),
                ("country".to_string(), "Japan".to_string()),
            ]
            .into_iter()
            .collect(),
            backstory: None,
        }
    }

    fn question() -> Question {
        Question {
            id: "q".into(),
            text: "Agree?".into(),
            options: vec!["Yes".into(), "No".into()],
            ordinal: None,
            refusal: vec![],
        }
    }

    #[test]
    fn every_builtin_parses() {
        for (name, _) in BUILTIN {
            let template = PromptTemplate::load(name).unwrap();
            assert_eq!(template.name, name);
        }
    }

    #[test]
    fn renders_bio_and_country_styles() {
        let bio = PromptTemplate::load("opinionqa-bio").unwrap();
        let (_, user) = bio
            .render(&persona(), &question(), "Answer with a letter.")
            .unwrap();
        expect_test::expect![[r#"
            Below you will be asked to provide a short description of yourself and then answer a question.
            Description: I am from Japan.
            In politics today, I consider myself a Democrat.

            Question: Agree?
            A. Yes
            B. No
            Answer with a letter."#]]
        .assert_eq(&user);
        let country = PromptTemplate::load("globalopinionqa-country").unwrap();
        let (_, user) = country.render(&persona(), &question(), "").unwrap();
        assert!(user.starts_with("How would someone from Japan answer"));
    }

    #[test]
    fn missing_backstory_and_unknown_placeholders_are_errors() {
        let backstory = PromptTemplate::load("backstory").unwrap();
        let message = backstory
            .render(&persona(), &question(), "")
            .unwrap_err()
            .to_string();
        assert!(message.contains("has no backstory"), "{message}");
        let message = PromptTemplate::parse("name = \"x\"\nuser = \"{{nope}}\"", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("unknown placeholder {{nope}}"),
            "{message}"
        );
    }
}
