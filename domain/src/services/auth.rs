//! Sign-in, refresh, sign-out, and turning a bearer token into an actor.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Voxport;
use crate::{
    actor::Actor,
    auth::{Client, RefreshToken, Session},
    errors::{AuthenticateError, ChangePasswordError, LoginError, RefreshError, UpdateUserError},
    ports::{RefreshUse, Store},
    station::Application,
    user::{User, UserChanges, UserStatus},
    values::{Login, MAX_PASSWORD_CHARS},
};

/// What a successful sign-in or refresh hands to the client.
#[derive(Debug)]
pub struct SignedIn {
    pub access_token: String,
    pub refresh_token: RefreshToken,
    pub expires_in: i64,
    pub user: User,
}

impl<S: Store> Voxport<S> {
    /// Signs a user in with login and password (PRODUCT.md rule 1: no
    /// tenant needed). Unknown login, wrong password, no password yet, and
    /// an account that is not active all fail alike and take about as
    /// long (a dummy hash is verified when there is no real one).
    ///
    /// # Errors
    /// `InvalidCredentials` for every refusal.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: Client,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, LoginError> {
        if password.chars().count() > MAX_PASSWORD_CHARS {
            return Err(LoginError::InvalidCredentials);
        }
        let found = self.store.user_by_login(&Login::key_of(login)).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, None),
        };
        let matches = self.hasher.verify(password, hash.as_ref()).await?;
        let user = match user {
            Some(user) if matches && user.status(now) == UserStatus::Active => user,
            _ => return Err(LoginError::InvalidCredentials),
        };
        // Only after the password matched, so it tells a stranger nothing.
        if !client.allowed_for(&user) {
            return Err(LoginError::ApplicationNotEnabled(Application::DesktopApp));
        }
        let session = Session {
            id: Uuid::now_v7(),
            user_id: user.id,
            tenant_id: user.tenant_id,
            client,
            created_at: now,
            expires_at: now + self.lifetimes.session_absolute,
            revoked_at: None,
        };
        let refresh = RefreshToken::generate();
        self.store.create_session(&session, &refresh.hash(), self.refresh_expiry(&session, now)).await?;
        Ok(self.signed_in(user, &session, refresh, now)?)
    }

    /// Rotates a refresh token. A token presented a second time ends its
    /// whole session (RFC 9700 4.14.2).
    ///
    /// # Errors
    /// `InvalidToken` when the token is unknown, spent, expired or its
    /// session has ended, or its user may no longer sign in.
    pub async fn refresh(&self, presented: &str, now: DateTime<Utc>) -> Result<SignedIn, RefreshError> {
        let (session, expires_at) = match self.store.use_refresh_token(&RefreshToken::hash_of(presented), now).await? {
            RefreshUse::Fresh { session, expires_at } => (session, expires_at),
            RefreshUse::Replayed { session_id } => {
                tracing::warn!(session = %session_id, "refresh token reused; ending the session");
                self.store.revoke_session(session_id, now).await?;
                return Err(RefreshError::InvalidToken);
            }
            RefreshUse::NotFound => return Err(RefreshError::InvalidToken),
        };
        if !session.is_live(now) || expires_at <= now {
            return Err(RefreshError::InvalidToken);
        }
        let user = match self.store.user(session.tenant_id, session.user_id).await? {
            Some(user) if user.status(now) == UserStatus::Active && session.client.allowed_for(&user) => user,
            _ => return Err(RefreshError::InvalidToken),
        };
        let refresh = RefreshToken::generate();
        self.store.add_refresh_token(session.id, &refresh.hash(), self.refresh_expiry(&session, now), now).await?;
        Ok(self.signed_in(user, &session, refresh, now)?)
    }

    /// Ends the session a refresh token belongs to. Unknown tokens are
    /// ignored: signing out twice is not an error.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn logout(&self, presented: &str, now: DateTime<Utc>) -> anyhow::Result<()> {
        if let Some(session) = self.store.session_of_refresh_token(&RefreshToken::hash_of(presented)).await? {
            self.store.revoke_session(session, now).await?;
        }
        Ok(())
    }

    /// The actor behind an access token: the token must verify, its session
    /// must be live and its user active now (so disabling or expiring an
    /// account takes effect on the next request).
    ///
    /// # Errors
    /// `InvalidToken` for every refusal.
    pub async fn authenticate(&self, bearer: &str, now: DateTime<Utc>) -> Result<(Actor, User), AuthenticateError> {
        let claims = self.tokens.verify(bearer).map_err(|e| {
            tracing::debug!(error = %e, "refused an access token");
            AuthenticateError::InvalidToken
        })?;
        let session = self.store.session(claims.sid).await?;
        match session {
            Some(s) if s.is_live(now) && s.user_id == claims.sub => {}
            _ => return Err(AuthenticateError::InvalidToken),
        }
        let user = match self.store.user(claims.tid, claims.sub).await? {
            Some(user) if user.status(now) == UserStatus::Active => user,
            _ => return Err(AuthenticateError::InvalidToken),
        };
        let actor = Actor {
            user_id: user.id,
            tenant_id: user.tenant_id,
            session_id: claims.sid,
            permissions: user.role.permissions.clone(),
        };
        Ok((actor, user))
    }

    /// Changes the actor's own password; needs the current one (ASVS 5.0
    /// 6.2.3) and ends every other session of theirs.
    ///
    /// # Errors
    /// `WrongPassword`, `WeakPassword`.
    pub async fn change_password(
        &self,
        actor: &Actor,
        me: &User,
        current: &str,
        new: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ChangePasswordError> {
        let hash = self.store.password_hash(actor.user_id).await?;
        if current.chars().count() > MAX_PASSWORD_CHARS || !self.hasher.verify(current, hash.as_ref()).await? {
            return Err(ChangePasswordError::WrongPassword);
        }
        let new = self.policy.check(new, &me.personal_words()).map_err(ChangePasswordError::WeakPassword)?;
        let hash = self.hasher.hash(&new).await?;
        self.store.set_password(actor.user_id, hash, Some(actor.session_id), now).await?;
        Ok(())
    }

    /// Changes the actor's own names, time zone or language; nothing that
    /// needs an administrator.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn update_me(&self, actor: &Actor, changes: UserChanges, now: DateTime<Utc>) -> anyhow::Result<User> {
        let changes = UserChanges {
            first_name: changes.first_name,
            last_name: changes.last_name,
            timezone: changes.timezone,
            language: changes.language,
            ..UserChanges::default()
        };
        match self.store.update_user(actor.tenant_id, actor.user_id, changes, None, None, now).await {
            Ok(user) => Ok(user),
            Err(UpdateUserError::Unknown(e)) => Err(e),
            Err(other) => Err(anyhow::anyhow!("updating one's own profile: {other}")),
        }
    }

    fn refresh_expiry(&self, session: &Session, now: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.lifetimes.refresh_idle).min(session.expires_at)
    }

    fn signed_in(
        &self,
        user: User,
        session: &Session,
        refresh: RefreshToken,
        now: DateTime<Utc>,
    ) -> anyhow::Result<SignedIn> {
        let access_token = self.tokens.issue(user.id, user.tenant_id, session.id, now)?;
        Ok(SignedIn {
            access_token,
            refresh_token: refresh,
            expires_in: self.tokens.access_lifetime().num_seconds(),
            user,
        })
    }
}
