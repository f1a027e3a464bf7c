//! What the emails say (PRODUCT.md rule 5).
//!
//! The welcome email carries the login, the portal address, how to sign in
//! to the desktop app, the user's extensions and, when no password was
//! set, the set-password link. Never a password. Plain text and HTML, in
//! the user's language where a translation exists (English and German).
//! Every value from a user is HTML-escaped in the HTML part; names cannot
//! hold CR or LF (the value types refuse control characters), so they
//! cannot add headers either.

use uuid::Uuid;

use super::EmailMessage;
use crate::{
    user::{NewUser, User},
    values::{Email, Language, Login, PersonName},
};

/// Who a welcome email is for: a stored user, or one being stored.
#[derive(Debug, Clone)]
pub struct Recipient<'a> {
    pub user_id: Uuid,
    pub login: &'a Login,
    pub email: Option<&'a Email>,
    pub first_name: &'a PersonName,
    pub last_name: &'a PersonName,
    pub language: Language,
    /// The numbers of the extensions that ring the user.
    pub extensions: Vec<&'a str>,
}

impl<'a> From<&'a User> for Recipient<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            user_id: u.id,
            login: &u.login,
            email: u.email.as_ref(),
            first_name: &u.first_name,
            last_name: &u.last_name,
            language: u.language,
            extensions: u.extensions.iter().map(|e| e.number.as_str()).collect(),
        }
    }
}

impl<'a> From<&'a NewUser> for Recipient<'a> {
    fn from(u: &'a NewUser) -> Self {
        Self {
            user_id: u.id,
            login: &u.login,
            email: u.email.as_ref(),
            first_name: &u.first_name,
            last_name: &u.last_name,
            language: u.language,
            extensions: Vec::new(),
        }
    }
}

/// What a welcome email says.
#[derive(Debug, Clone)]
pub struct Welcome<'a> {
    pub to: Recipient<'a>,
    pub tenant_name: &'a str,
    /// Where the portal is.
    pub portal_url: &'a str,
    /// The single-use link, when the user has no password yet, and the
    /// token it carries (shown on a line of its own too, so it survives
    /// line folding).
    pub set_password_link: Option<(&'a str, &'a str)>,
    /// How long the link works.
    pub link_hours: i64,
}

/// The words of one language.
struct Words {
    subject: &'static str,
    greeting: &'static str,
    intro: &'static str,
    login: &'static str,
    portal: &'static str,
    desktop: &'static str,
    extensions: &'static str,
    set_password: &'static str,
    code: &'static str,
    link_expiry: &'static str,
    have_password: &'static str,
    closing: &'static str,
    reset_subject: &'static str,
    reset_intro: &'static str,
    reset_code: &'static str,
    reset_ignore: &'static str,
    webhook_subject: &'static str,
    webhook_intro: &'static str,
    webhook_again: &'static str,
}

const ENGLISH: Words = Words {
    subject: "Welcome to {tenant}",
    greeting: "Hello {name},",
    intro: "an account has been set up for you at {tenant}.",
    login: "Your login",
    portal: "Portal",
    desktop: "Sign in to the desktop app with the same login and password; no separate account is needed.",
    extensions: "Your extension",
    set_password: "Choose your password here:",
    code: "or enter this code on the portal's set-password page:",
    link_expiry: "The link works once and expires in {hours} hours.",
    have_password: "Your administrator will tell you your password.",
    closing: "If you did not expect this email, you can ignore it.",
    reset_subject: "Reset your password",
    reset_intro: "someone asked for a new password for your account. Choose it here:",
    reset_code: "or enter this code on the page:",
    reset_ignore: "If that was not you, ignore this email; your password stays as it is.",
    webhook_subject: "A webhook was switched off",
    webhook_intro: "every delivery to this webhook has failed since {since}, so voxport switched it off and stopped sending to it:",
    webhook_again: "Once the receiver works again, switch the webhook on in the portal or with PATCH /v1/webhooks/{id} {\"enabled\": true}; deliveries given up can be sent again one by one.",
};

const GERMAN: Words = Words {
    subject: "Willkommen bei {tenant}",
    greeting: "Hallo {name},",
    intro: "für Sie wurde ein Konto bei {tenant} eingerichtet.",
    login: "Ihr Login",
    portal: "Portal",
    desktop: "Melden Sie sich in der Desktop-App mit demselben Login und Passwort an; ein eigenes Konto ist nicht nötig.",
    extensions: "Ihre Nebenstelle",
    set_password: "Wählen Sie hier Ihr Passwort:",
    code: "oder geben Sie diesen Code auf der Passwort-Seite des Portals ein:",
    link_expiry: "Der Link funktioniert einmal und läuft in {hours} Stunden ab.",
    have_password: "Ihr Passwort erhalten Sie von Ihrem Administrator.",
    closing: "Falls Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren.",
    reset_subject: "Passwort zurücksetzen",
    reset_intro: "jemand hat ein neues Passwort für Ihr Konto angefordert. Wählen Sie es hier:",
    reset_code: "oder geben Sie diesen Code auf der Seite ein:",
    reset_ignore: "Falls Sie das nicht waren, ignorieren Sie diese E-Mail; Ihr Passwort bleibt, wie es ist.",
    webhook_subject: "Ein Webhook wurde abgeschaltet",
    webhook_intro: "jede Zustellung an diesen Webhook ist seit {since} fehlgeschlagen; voxport hat ihn deshalb abgeschaltet und sendet nicht mehr an ihn:",
    webhook_again: "Sobald der Empfänger wieder funktioniert, schalten Sie den Webhook im Portal oder mit PATCH /v1/webhooks/{id} {\"enabled\": true} wieder ein; aufgegebene Zustellungen lassen sich einzeln erneut senden.",
};

fn words(language: Language) -> &'static Words {
    if language.as_str().starts_with("de") { &GERMAN } else { &ENGLISH }
}

/// Escapes text for HTML element content and attribute values.
#[must_use]
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The reset email for a forgotten password: the single-use link (and its
/// token as a code), nothing else; `None` without an address.
#[must_use]
pub fn password_reset_email(
    to: &Recipient<'_>,
    portal_url: &str,
    (link, token): (&str, &str),
    link_hours: i64,
) -> Option<EmailMessage> {
    let address = to.email?.as_str().to_owned();
    let t = words(to.language);
    let name = format!("{} {}", to.first_name.as_str(), to.last_name.as_str());
    let greeting = t.greeting.replace("{name}", &name);
    let expiry = t.link_expiry.replace("{hours}", &link_hours.to_string());
    let (subject, intro, code, ignore) = (t.reset_subject, t.reset_intro, t.reset_code, t.reset_ignore);
    let login = to.login.as_str();
    let text =
        format!("{greeting}\n\n{intro}\n{link}\n{code}\n{token}\n{expiry}\n\n{login} · {portal_url}\n\n{ignore}\n");
    let e = |s: &str| escape_html(s);
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n<p>{}</p>\n\
         <p>{}<br><a href=\"{}\">{}</a><br>{}<br><code>{}</code><br>{}</p>\n<p>{}<br>{}</p>\n<p>{}</p>\n</body></html>\n",
        e(subject),
        e(&greeting),
        e(intro),
        e(link),
        e(link),
        e(code),
        e(token),
        e(&expiry),
        e(login),
        e(portal_url),
        e(ignore),
    );
    Some(EmailMessage { to: address, to_name: name, subject: subject.to_owned(), text, html })
}

/// The email telling one of a tenant's webhook administrators that
/// `webhook` (its id and URL) was switched off for failing since `since`.
/// `None` when they have no email address.
#[must_use]
pub fn webhook_disabled_email(to: &Recipient<'_>, webhook: (Uuid, &str), since: &str) -> Option<EmailMessage> {
    let address = to.email?.as_str().to_owned();
    let t = words(to.language);
    let name = format!("{} {}", to.first_name.as_str(), to.last_name.as_str());
    let greeting = t.greeting.replace("{name}", &name);
    let intro = t.webhook_intro.replace("{since}", since);
    let again = t.webhook_again.replace("{id}", &webhook.0.to_string());
    let url = webhook.1;
    let text = format!("{greeting}\n\n{intro}\n{url}\n\n{again}\n");
    let e = |s: &str| escape_html(s);
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n<p>{}</p>\n\
         <p>{}<br><code>{}</code></p>\n<p>{}</p>\n</body></html>\n",
        e(t.webhook_subject),
        e(&greeting),
        e(&intro),
        e(url),
        e(&again),
    );
    Some(EmailMessage { to: address, to_name: name, subject: t.webhook_subject.to_owned(), text, html })
}

/// The welcome email of a new user (PRODUCT.md rule 5). `None` when the
/// user has no email address.
#[must_use]
pub fn welcome_email(w: &Welcome<'_>) -> Option<EmailMessage> {
    let user = &w.to;
    let to = user.email?.as_str().to_owned();
    let t = words(user.language);
    let name = format!("{} {}", user.first_name.as_str(), user.last_name.as_str());
    let fill = |s: &str| s.replace("{tenant}", w.tenant_name).replace("{name}", &name);
    let subject = fill(t.subject);
    let numbers = &user.extensions;
    let expiry = t.link_expiry.replace("{hours}", &w.link_hours.to_string());

    let mut text = format!("{}\n\n{}\n\n", fill(t.greeting), fill(t.intro));
    text.push_str(&format!("{}: {}\n{}: {}\n", t.login, user.login.as_str(), t.portal, w.portal_url));
    if !numbers.is_empty() {
        text.push_str(&format!("{}: {}\n", t.extensions, numbers.join(", ")));
    }
    text.push_str(&format!("\n{}\n\n", t.desktop));
    match w.set_password_link {
        Some((link, token)) => {
            text.push_str(&format!("{}\n{link}\n{}\n{token}\n{expiry}\n\n", t.set_password, t.code));
        }
        None => text.push_str(&format!("{}\n\n", t.have_password)),
    }
    text.push_str(t.closing);
    text.push('\n');

    let e = |s: &str| escape_html(s);
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n",
        e(user.language.as_str()),
        e(&subject)
    );
    html.push_str(&format!("<p>{}</p>\n<p>{}</p>\n<table>\n", e(&fill(t.greeting)), e(&fill(t.intro))));
    html.push_str(&format!("<tr><th align=\"left\">{}</th><td>{}</td></tr>\n", e(t.login), e(user.login.as_str())));
    html.push_str(&format!(
        "<tr><th align=\"left\">{}</th><td><a href=\"{}\">{}</a></td></tr>\n",
        e(t.portal),
        e(w.portal_url),
        e(w.portal_url)
    ));
    if !numbers.is_empty() {
        html.push_str(&format!(
            "<tr><th align=\"left\">{}</th><td>{}</td></tr>\n",
            e(t.extensions),
            e(&numbers.join(", "))
        ));
    }
    html.push_str(&format!("</table>\n<p>{}</p>\n", e(t.desktop)));
    match w.set_password_link {
        Some((link, token)) => html.push_str(&format!(
            "<p>{}<br><a href=\"{}\">{}</a><br>{}<br><code>{}</code><br>{}</p>\n",
            e(t.set_password),
            e(link),
            e(link),
            e(t.code),
            e(token),
            e(&expiry)
        )),
        None => html.push_str(&format!("<p>{}</p>\n", e(t.have_password))),
    }
    html.push_str(&format!("<p>{}</p>\n</body></html>\n", e(t.closing)));

    Some(EmailMessage { to, to_name: name, subject, text, html })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{
        extension::{ExtensionRef, ExtensionType},
        permission::PermissionSet,
        role::Role,
        values::{Email, Label, Login, PersonName, Timezone},
    };

    fn user(language: &str) -> User {
        let now = Utc::now();
        User {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            login: Login::parse("jsmith@acme.example").unwrap(),
            email: Some(Email::parse("jsmith@acme.example").unwrap()),
            first_name: PersonName::parse("John <b>").unwrap(),
            last_name: PersonName::parse("Smith & Sons").unwrap(),
            role: Role {
                id: Uuid::nil(),
                tenant_id: Uuid::nil(),
                name: Label::parse("User").unwrap(),
                description: None,
                permissions: PermissionSet::default(),
                builtin: None,
                two_factor_required: false,
                created_at: now,
                updated_at: now,
            },
            station: None,
            device: None,
            extensions: vec![ExtensionRef {
                id: Uuid::nil(),
                number: "204".into(),
                kind: ExtensionType::Sip,
                force_login: false,
            }],
            phone_number: None,
            applications: vec![],
            two_factor: crate::user::TwoFactorStatus::default(),
            allowed_networks: vec![],
            disabled: false,
            activation_at: None,
            expires_at: None,
            timezone: Timezone::UTC,
            language: Language::parse(language).unwrap(),
            directory: crate::user::Directory::default(),
            created_at: now,
            updated_at: now,
        }
    }

    fn welcome(u: &User, link: Option<(&str, &str)>) -> EmailMessage {
        welcome_email(&Welcome {
            to: u.into(),
            tenant_name: "Acme",
            portal_url: "https://portal.example",
            set_password_link: link,
            link_hours: 24,
        })
        .unwrap()
    }

    #[test]
    fn the_welcome_email_says_what_rule_5_asks_in_both_parts() {
        let u = user("en");
        let m = welcome(&u, Some(("https://portal.example/set-password#token=vxl_abc", "vxl_abc")));
        assert_eq!(m.to, "jsmith@acme.example");
        assert_eq!(m.subject, "Welcome to Acme");
        for part in [&m.text, &m.html] {
            assert!(part.contains("jsmith@acme.example"), "login");
            assert!(part.contains("https://portal.example"), "portal");
            assert!(part.contains("desktop app"), "desktop");
            assert!(part.contains("204"), "extension");
            assert!(part.contains("set-password#token=vxl_abc"), "link");
            assert!(part.contains("\nvxl_abc\n") || part.contains("<code>vxl_abc</code>"), "code");
        }
        let without = welcome(&u, None);
        assert!(!without.text.contains("set-password"));
        assert!(without.text.contains("administrator will tell you"));
    }

    #[test]
    fn names_are_escaped_in_html() {
        let m = welcome(&user("en"), None);
        assert!(m.html.contains("John &lt;b&gt; Smith &amp; Sons"), "{}", m.html);
        assert!(!m.html.contains("<b>"));
        assert!(m.text.contains("John <b> Smith & Sons"));
    }

    #[test]
    fn german_users_read_german() {
        let m = welcome(&user("de-AT"), None);
        assert_eq!(m.subject, "Willkommen bei Acme");
        assert!(m.text.contains("Desktop-App"));
        let fr = welcome(&user("fr"), None);
        assert_eq!(fr.subject, "Welcome to Acme", "English where no translation exists");
    }

    #[test]
    fn no_email_address_no_welcome_email() {
        let mut u = user("en");
        u.email = None;
        assert!(
            welcome_email(&Welcome {
                to: (&u).into(),
                tenant_name: "A",
                portal_url: "x",
                set_password_link: None,
                link_hours: 1
            })
            .is_none()
        );
    }

    #[test]
    fn debug_never_shows_the_body() {
        let m = welcome(&user("en"), Some(("https://portal.example/set-password#token=vxl_secret", "vxl_secret")));
        assert!(!format!("{m:?}").contains("vxl_secret"));
    }
}
