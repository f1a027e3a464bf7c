//! Portal users: create, change, delete, read.
//!
//! Rules (PRODUCT.md 1, 6, 7): logins are unique platform-wide; nobody
//! grants permissions they lack, and nobody acts on a user who holds
//! permissions they lack (else a limited admin could reset an
//! Administrator's password and become one); nobody deletes themselves,
//! changes their own role or switches off their own account; a tenant
//! always keeps an active administrator.

use std::collections::HashMap;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{NewExtensionRequest, NewPassword, Voxport, touched_fields};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    email::Recipient,
    errors::{ChangeUserError, CreateUserError, DeleteUserError, TelephonyError, UpdateUserError},
    paging::{Page, PageRequest, Sort},
    permission::Permission,
    ports::{EndSessions, Holding, ProvisionTx as _, Store, UserUpdate},
    role::{BuiltinRole, Role},
    station::Application,
    tenant::Tenant,
    user::{Directory, NewUser, User, UserChanges, UserFilter, UserSortKey, UserStatus, check_window},
    values::{Email, Language, Login, Password, PersonName, Secret, Timezone},
};

#[derive(Debug, Clone)]
pub struct CreateUser {
    pub login: Login,
    pub email: Option<Email>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub role_id: Option<Uuid>,
    pub password: NewPassword,
    pub disabled: bool,
    pub activation_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub timezone: Timezone,
    pub language: Language,
    pub telephony: Telephony,
    /// Write the welcome email (when the user has an address).
    pub send_welcome_email: bool,
    /// What an identity provider's directory knows of the user (SCIM).
    pub directory: Directory,
}

/// What a one-call set-up gives the new user besides the account.
#[derive(Debug, Clone, Default)]
pub struct Telephony {
    pub extension: Option<ExtensionRequest>,
    pub phone_number_id: Option<Uuid>,
    pub station_id: Option<Uuid>,
    pub device: Option<DeviceRequest>,
    pub applications: Option<Vec<Application>>,
}

impl Telephony {
    fn is_requested(&self) -> bool {
        self.extension.is_some()
            || self.phone_number_id.is_some()
            || self.station_id.is_some()
            || self.device.is_some()
            || self.applications.as_ref().is_some_and(|a| !a.is_empty())
    }
}

/// An extension for a new user: an existing one, or one to create.
#[derive(Debug, Clone)]
pub enum ExtensionRequest {
    Existing(Uuid),
    New(NewExtensionRequest),
}

#[derive(Debug, Clone, Copy)]
pub struct DeviceRequest {
    pub id: Uuid,
    /// Default: all of the device's line ports.
    pub ports: Option<u8>,
}

/// How a creation runs.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Check everything, write nothing.
    pub dry_run: bool,
}

/// What preparing creations reads that one request reads once, however
/// many users it creates (an import): the actor's tenant, and the roles
/// granted by what the request named (`None`: the built-in User).
#[derive(Debug, Default)]
pub(super) struct Lookups {
    tenant: Option<Tenant>,
    roles: HashMap<Option<Uuid>, Role>,
}

/// A user just written, as an import reports it: without reading the
/// user back, which would cost every row another query.
#[derive(Debug)]
pub struct WrittenUser {
    pub id: Uuid,
    pub login: Login,
    /// The generated password, to be shown once.
    pub generated_password: Option<Password>,
    /// Whether a welcome email was written.
    pub welcome_email: bool,
}

#[derive(Debug)]
pub struct CreatedUser {
    pub user: User,
    /// The generated password, to be shown once.
    pub generated_password: Option<Password>,
    /// Whether a welcome email was written.
    pub welcome_email: bool,
}

/// A creation checked and ready to write.
pub(super) struct PreparedUser {
    req: CreateUser,
    role: Role,
    tenant: crate::tenant::Tenant,
    new_extension: Option<crate::extension::NewExtension>,
    wanted_apps: Vec<Application>,
    password: super::passwords::ChosenPassword,
}

impl PreparedUser {
    /// The station pool the user is to take a licence from.
    pub(super) fn station(&self) -> Option<Uuid> {
        self.req.telephony.station_id
    }
}

/// What a change gives a user or takes from them besides the account.
#[derive(Debug, Clone, Default)]
pub struct HoldingsChange {
    /// What the user held when the change was worked out: if they hold
    /// something else when it is applied, it is not (someone else changed
    /// them meanwhile; [`ChangeUserError::Changed`]).
    pub worked_out_from: Held,
    /// One of the user's extensions to take back.
    pub release_extension: Option<Uuid>,
    pub give_extension: Option<ExtensionRequest>,
    pub release_phone_number: bool,
    pub give_phone_number: Option<Uuid>,
    pub release_station: bool,
    pub give_station: Option<Uuid>,
    pub release_device: bool,
    pub give_device: Option<Uuid>,
}

/// Which extensions, number, licence and desk phone a user holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    extensions: Vec<Uuid>,
    phone_number: Option<Uuid>,
    station: Option<Uuid>,
    device: Option<Uuid>,
}

impl Held {
    pub fn of(user: &User) -> Self {
        Self {
            extensions: user.extensions.iter().map(|e| e.id).collect(),
            phone_number: user.phone_number.as_ref().map(|n| n.id),
            station: user.station.as_ref().map(|s| s.id),
            device: user.device.as_ref().map(|d| d.id),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct UpdateUser {
    pub changes: UserChanges,
    /// A new password set by an admin; ends the user's sessions.
    pub password: Option<Secret>,
}

impl<S: Store> Voxport<S> {
    /// Creates a user with, optionally, everything they need to make calls,
    /// in one transaction: all of it happens or none of it does. The
    /// welcome email is written in the same transaction (PRODUCT.md rules
    /// 2 to 5 and 9). With `dry_run`, everything is checked and rolled
    /// back.
    ///
    /// # Errors
    /// See [`CreateUserError`].
    pub async fn create_user(
        &self,
        actor: &Actor,
        req: CreateUser,
        options: CreateOptions,
        now: DateTime<Utc>,
    ) -> Result<CreatedUser, CreateUserError> {
        let dry_run = options.dry_run;
        let prepared = self.prepare_user(actor, req, !dry_run, &mut Lookups::default()).await?;
        let mut tx = self.store.begin_provisioning(now).await?;
        let written = self.write_user(&mut tx, actor, prepared, now).await?;
        let user = tx.user(actor.tenant_id, written.id).await?.context("reading back a new user")?;
        let created =
            CreatedUser { user, generated_password: written.generated_password, welcome_email: written.welcome_email };
        if dry_run {
            tx.rollback().await?;
            return Ok(created);
        }
        tx.commit().await?;
        if created.welcome_email {
            self.outbox.notify_one();
        }
        tracing::info!(actor = %actor.caller_id(), user = %created.user.id, "created user");
        Ok(created)
    }

    /// What a creation checks before it writes: the role (PRODUCT.md rule
    /// 7), the access window, what telephony needs, and the password
    /// (hashed when `hash`).
    pub(super) async fn prepare_user(
        &self,
        actor: &Actor,
        req: CreateUser,
        hash: bool,
        lookups: &mut Lookups,
    ) -> Result<PreparedUser, CreateUserError> {
        let role = match lookups.roles.get(&req.role_id) {
            Some(role) => role.clone(),
            None => self.role_named(actor, req.role_id).await?,
        };
        let missing = actor.cannot_grant(&role.permissions);
        if !missing.is_empty() {
            return Err(CreateUserError::PermissionNotHeld(missing));
        }
        lookups.roles.insert(req.role_id, role.clone());
        check_window(req.activation_at, req.expires_at)?;
        let telephony = &req.telephony;
        if telephony.is_requested() && telephony.extension.is_none() && telephony.phone_number_id.is_none() {
            return Err(CreateUserError::NeedsNumberOrExtension);
        }
        let tenant = match &lookups.tenant {
            Some(tenant) => tenant.clone(),
            None => lookups.tenant.insert(self.own_tenant(actor).await?).clone(),
        };
        // Making an extension or moving one to a user is extension work
        // (issue 11, finding 3), beyond users:write.
        if telephony.extension.is_some() && !actor.can(Permission::ExtensionsWrite) {
            return Err(TelephonyError::PermissionNotHeld(vec![Permission::ExtensionsWrite]).into());
        }
        let new_extension = match &telephony.extension {
            Some(ExtensionRequest::New(wanted)) => {
                Some(self.new_extension(&tenant, wanted.clone()).map_err(TelephonyError::from)?)
            }
            _ => None,
        };
        let wanted_apps = telephony.applications.clone().unwrap_or_default();
        if !wanted_apps.is_empty() && telephony.station_id.is_none() {
            return Err(TelephonyError::ApplicationsNotUnlocked(wanted_apps).into());
        }
        let personal: Vec<&str> = [req.login.as_str(), req.first_name.as_str(), req.last_name.as_str()]
            .into_iter()
            .chain(req.email.as_ref().map(Email::as_str))
            .collect();
        // Without an address, or without the welcome email, nothing would
        // carry a set-password link.
        let can_link = req.email.is_some() && req.send_welcome_email;
        let password = self.choose_password(&req.password, &personal, can_link, hash).await?;
        Ok(PreparedUser { req, role, tenant, new_extension, wanted_apps, password })
    }

    /// Writes a prepared user and all they are given in `tx`, with the
    /// welcome email and the audit event; answers what was created.
    pub(super) async fn write_user(
        &self,
        tx: &mut S::Tx,
        actor: &Actor,
        prepared: PreparedUser,
        now: DateTime<Utc>,
    ) -> Result<WrittenUser, CreateUserError> {
        let PreparedUser { req, role, tenant, new_extension, wanted_apps, password } = prepared;
        let telephony = req.telephony;
        let id = Uuid::now_v7();
        let new_user = NewUser {
            id,
            tenant_id: actor.tenant_id,
            login: req.login,
            email: req.email,
            first_name: req.first_name,
            last_name: req.last_name,
            role_id: role.id,
            password_hash: password.hash,
            disabled: req.disabled,
            activation_at: req.activation_at,
            expires_at: req.expires_at,
            timezone: req.timezone,
            language: req.language,
            directory: req.directory,
        };
        tx.insert_user(&new_user, &wanted_apps).await?;
        // The extension that rings the user: its id and number.
        let rings = match (&telephony.extension, new_extension) {
            (_, Some(extension)) => {
                tx.create_extension(actor.tenant_id, &extension, id).await?;
                Some((extension.id, extension.number.as_str().to_owned()))
            }
            (Some(ExtensionRequest::Existing(extension)), None) => {
                let found = self.store.extension(actor.tenant_id, *extension).await?;
                let found = found.ok_or(TelephonyError::ExtensionNotFound)?;
                let fresh = self.fresh_sip_secret(*extension, &found.sip_username, &self.sip_domain(&tenant))?;
                tx.assign_extension(actor.tenant_id, id, *extension, &fresh).await?;
                Some((found.id, found.number.as_str().to_owned()))
            }
            (_, None) => None,
        };
        if let Some(number) = telephony.phone_number_id {
            tx.assign_phone_number(actor.tenant_id, id, number).await?;
        }
        if let Some(station) = telephony.station_id {
            let station = tx.assign_station(actor.tenant_id, id, station).await?;
            let locked = station.locked(&wanted_apps);
            if !locked.is_empty() {
                return Err(TelephonyError::ApplicationsNotUnlocked(locked).into());
            }
        }
        if let Some(device) = telephony.device {
            tx.assign_device(actor.tenant_id, id, device.id, device.ports).await?;
        }
        let welcome = if req.send_welcome_email {
            let mut to = Recipient::from(&new_user);
            to.extensions = rings.iter().map(|(_, number)| number.as_str()).collect();
            self.welcome(to, tenant.name.as_str(), password.by_link, now)?
        } else {
            None
        };
        let welcome_email = welcome.is_some();
        if let Some(welcome) = welcome {
            tx.queue_email(welcome).await?;
        }
        let audit = AuditEvent::by(actor, AuditAction::UserCreated, TargetType::User, Some(id), now).with(json!({
            "role_id": role.id,
            "extensions": rings.iter().map(|(extension, _)| extension).collect::<Vec<_>>(),
            "phone_number_id": telephony.phone_number_id,
            "station_id": telephony.station_id,
            "device_id": telephony.device.map(|d| d.id),
            "applications": wanted_apps.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            "welcome_email": welcome_email,
        }));
        tx.record(&audit).await?;
        Ok(WrittenUser { id, login: new_user.login, generated_password: password.generated, welcome_email })
    }

    /// # Errors
    /// See [`UpdateUserError`].
    pub async fn update_user(
        &self,
        actor: &Actor,
        id: Uuid,
        req: UpdateUser,
        now: DateTime<Utc>,
    ) -> Result<User, UpdateUserError> {
        let (update, audit) = self.prepare_update(actor, id, req, now).await?;
        let user = self.store.update_user(actor.tenant_id, id, update, now, &audit).await?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), user = %id, "changed user");
        Ok(user)
    }

    /// What an update checks before it writes (PRODUCT.md rules 7 and 8,
    /// the access window, the password policy), and what it writes.
    async fn prepare_update(
        &self,
        actor: &Actor,
        id: Uuid,
        req: UpdateUser,
        now: DateTime<Utc>,
    ) -> Result<(UserUpdate, AuditEvent), UpdateUserError> {
        let target = self.target::<UpdateUserError>(actor, id).await?;
        let changes = req.changes;
        if target.id == actor.user_id {
            if changes.role_id.is_some_and(|r| r != target.role.id) {
                return Err(UpdateUserError::OwnRole);
            }
            let locks_out = changes.disabled == Some(true)
                || matches!(changes.expires_at, Some(Some(_)))
                || matches!(changes.activation_at, Some(Some(start)) if start > now);
            if locks_out {
                return Err(UpdateUserError::OwnAccess);
            }
            if req.password.is_some() {
                return Err(UpdateUserError::OwnPassword);
            }
            let loosens = (changes.expires_at == Some(None) && target.expires_at.is_some())
                || (changes.two_factor_required == Some(false) && target.two_factor.required);
            if loosens {
                return Err(UpdateUserError::OwnRestriction);
            }
        }
        if let Some(role_id) = changes.role_id {
            let role = self.store.role(actor.tenant_id, role_id).await?.ok_or(UpdateUserError::RoleNotFound)?;
            let missing = actor.cannot_grant(&role.permissions);
            if !missing.is_empty() {
                return Err(UpdateUserError::PermissionNotHeld(missing));
            }
        }
        check_window(
            changes.activation_at.unwrap_or(target.activation_at),
            changes.expires_at.unwrap_or(target.expires_at),
        )?;
        // The blocklist holds the user's words as they will be after the change.
        let password_hash = match &req.password {
            Some(raw) => {
                let mut personal = target.personal_words();
                personal.extend(changes.login.as_ref().map(Login::as_str));
                personal.extend(changes.email.iter().flatten().map(Email::as_str));
                personal.extend(changes.first_name.as_ref().map(PersonName::as_str));
                personal.extend(changes.last_name.as_ref().map(PersonName::as_str));
                let password = self.policy.check(raw.expose(), &personal).map_err(UpdateUserError::WeakPassword)?;
                Some(self.hasher.hash(&password).await?)
            }
            None => None,
        };
        let role_changes = changes.role_id.is_some_and(|r| r != target.role.id);
        // Expired, not yet active or switched off after the change: its
        // sessions end now, not at their next request.
        let shut_out = UserStatus::at(
            now,
            changes.disabled.unwrap_or(target.disabled),
            changes.activation_at.unwrap_or(target.activation_at),
            changes.expires_at.unwrap_or(target.expires_at),
        ) != UserStatus::Active;
        let end_sessions = (role_changes || shut_out || password_hash.is_some())
            .then(|| EndSessions { keep: (id == actor.user_id).then_some(actor.session_id) });
        let audit = AuditEvent::by(actor, AuditAction::UserUpdated, TargetType::User, Some(id), now).with(json!({
            "fields": touched_fields(&[
                ("login", changes.login.is_some()),
                ("email", changes.email.is_some()),
                ("first_name", changes.first_name.is_some()),
                ("last_name", changes.last_name.is_some()),
                ("role_id", changes.role_id.is_some()),
                ("disabled", changes.disabled.is_some()),
                ("activation_at", changes.activation_at.is_some()),
                ("expires_at", changes.expires_at.is_some()),
                ("timezone", changes.timezone.is_some()),
                ("language", changes.language.is_some()),
                ("applications", changes.applications.is_some()),
                ("two_factor_required", changes.two_factor_required.is_some()),
                ("directory", changes.directory.is_some()),
                ("password", password_hash.is_some()),
            ]),
            "sessions_ended": end_sessions.is_some(),
            "switched_off": changes.disabled == Some(true) && !target.disabled,
        }));
        let update = UserUpdate {
            retire_links: changes.retires_links(password_hash.is_some()),
            changes,
            password: password_hash,
            end_sessions,
        };
        Ok((update, audit))
    }

    /// Changes a user and what they hold in one transaction: all of it
    /// happens or none of it does (a directory's replace or patch, SCIM).
    /// Each part is checked as its own operation checks it; `req` may
    /// change nothing.
    ///
    /// # Errors
    /// See [`ChangeUserError`].
    pub async fn change_user_and_holdings(
        &self,
        actor: &Actor,
        id: Uuid,
        req: UpdateUser,
        holdings: HoldingsChange,
        now: DateTime<Utc>,
    ) -> Result<User, ChangeUserError> {
        let touches_extensions = holdings.release_extension.is_some() || holdings.give_extension.is_some();
        if touches_extensions && !actor.can(Permission::ExtensionsWrite) {
            return Err(TelephonyError::PermissionNotHeld(vec![Permission::ExtensionsWrite]).into());
        }
        let changes_account = req.password.is_some() || req.changes.touches_anything();
        let (update, audit) = self.prepare_update(actor, id, req, now).await?;
        let tenant = self.own_tenant(actor).await?;
        let new_extension = match &holdings.give_extension {
            Some(ExtensionRequest::New(wanted)) => {
                Some(self.new_extension(&tenant, wanted.clone()).map_err(TelephonyError::from)?)
            }
            _ => None,
        };
        let fresh_secret = match &holdings.give_extension {
            Some(ExtensionRequest::Existing(extension)) => {
                Some(self.fresh_secret_for(actor, *extension).await?.ok_or(TelephonyError::ExtensionNotFound)?)
            }
            _ => None,
        };
        let event = |action: AuditAction, details: serde_json::Value| {
            AuditEvent::by(actor, action, TargetType::User, Some(id), now).with(details)
        };
        let mut tx = self.store.begin_provisioning(now).await?;
        if !tx.lock_user(actor.tenant_id, id, update.changes.may_remove_an_administrator()).await? {
            return Err(UpdateUserError::NotFound.into());
        }
        // Locked, the user holds what they hold until the commit.
        let locked = tx.user(actor.tenant_id, id).await?.ok_or(UpdateUserError::NotFound)?;
        if Held::of(&locked) != holdings.worked_out_from {
            tx.rollback().await?;
            return Err(ChangeUserError::Changed);
        }
        // Licences in one order, whoever takes and gives them, so that
        // two users trading pools at once do not wait for each other.
        if holdings.release_station || holdings.give_station.is_some() {
            let mut pools: Vec<Uuid> = locked.station.iter().map(|s| s.id).chain(holdings.give_station).collect();
            pools.sort_unstable();
            tx.lock_stations(actor.tenant_id, &pools).await?;
        }
        if let Some(extension) = holdings.release_extension {
            tx.release_extension(id, extension).await?;
            tx.record(&event(AuditAction::ExtensionReleased, json!({"extension_id": extension}))).await?;
        }
        for (release, what, action) in [
            (holdings.release_phone_number, Holding::PhoneNumber, AuditAction::PhoneNumberReleased),
            (holdings.release_station, Holding::Station, AuditAction::StationReleased),
            (holdings.release_device, Holding::Device, AuditAction::DeviceReleased),
        ] {
            if release {
                tx.release(id, what).await?;
                tx.record(&event(action, json!({}))).await?;
            }
        }
        match (&holdings.give_extension, new_extension, fresh_secret) {
            (_, Some(extension), _) => {
                tx.create_extension(actor.tenant_id, &extension, id).await?;
                tx.record(&event(AuditAction::ExtensionAssigned, json!({"extension_id": extension.id}))).await?;
            }
            (Some(ExtensionRequest::Existing(extension)), None, Some(fresh)) => {
                tx.assign_extension(actor.tenant_id, id, *extension, &fresh).await?;
                tx.record(&event(AuditAction::ExtensionAssigned, json!({"extension_id": extension}))).await?;
            }
            _ => {}
        }
        if let Some(number) = holdings.give_phone_number {
            tx.assign_phone_number(actor.tenant_id, id, number).await?;
            tx.record(&event(AuditAction::PhoneNumberAssigned, json!({"phone_number_id": number}))).await?;
        }
        if let Some(station) = holdings.give_station {
            tx.assign_station(actor.tenant_id, id, station).await?;
            tx.record(&event(AuditAction::StationAssigned, json!({"station_id": station}))).await?;
        }
        if let Some(device) = holdings.give_device {
            tx.assign_device(actor.tenant_id, id, device, None).await?;
            tx.record(&event(AuditAction::DeviceAssigned, json!({"device_id": device, "ports": null}))).await?;
        }
        let user = if changes_account {
            tx.update_user(actor.tenant_id, id, update, &audit).await?
        } else {
            tx.user(actor.tenant_id, id).await?.ok_or(UpdateUserError::NotFound)?
        };
        tx.commit().await?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), user = %id, "changed user and what they hold");
        Ok(user)
    }

    /// # Errors
    /// See [`DeleteUserError`].
    pub async fn delete_user(&self, actor: &Actor, id: Uuid, now: DateTime<Utc>) -> Result<(), DeleteUserError> {
        self.delete_user_resting_number(actor, id, None, now).await
    }

    /// Deletes a user; their phone number, if any, rests until
    /// `number_rests_until` before anyone is given it.
    ///
    /// # Errors
    /// See [`DeleteUserError`].
    pub async fn delete_user_resting_number(
        &self,
        actor: &Actor,
        id: Uuid,
        number_rests_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), DeleteUserError> {
        if id == actor.user_id {
            return Err(DeleteUserError::OwnAccount);
        }
        let target = self.target::<DeleteUserError>(actor, id).await?;
        let audit = AuditEvent::by(actor, AuditAction::UserDeleted, TargetType::User, Some(id), now)
            .with(json!({"login": target.login.as_str()}));
        self.store.delete_user(actor.tenant_id, id, now, number_rests_until, &audit).await?;
        self.tokens_may_have_changed();
        tracing::info!(actor = %actor.caller_id(), user = %id, "deleted user");
        Ok(())
    }

    /// # Errors
    /// When storage fails.
    pub async fn user(&self, actor: &Actor, id: Uuid) -> anyhow::Result<Option<User>> {
        self.store.user(actor.tenant_id, id).await
    }

    /// # Errors
    /// When storage fails.
    pub async fn list_users(
        &self,
        actor: &Actor,
        filter: &UserFilter,
        sort: Sort<UserSortKey>,
        page: PageRequest,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Page<User>> {
        self.store.list_users(actor.tenant_id, filter, sort, page, now).await
    }

    /// The role a new user gets: the one asked for, or the built-in User
    /// role; either way one whose permissions the actor holds.
    /// The role `role_id` names in the actor's tenant (`None`: the
    /// built-in User); whether the actor may grant it is the caller's.
    async fn role_named(&self, actor: &Actor, role_id: Option<Uuid>) -> Result<Role, CreateUserError> {
        match role_id {
            Some(id) => self.store.role(actor.tenant_id, id).await?,
            None => self.store.builtin_role(actor.tenant_id, BuiltinRole::User).await?,
        }
        .ok_or(CreateUserError::RoleNotFound)
    }
}
