//! Desk phones fetching their configuration (issue 10; see
//! [`crate::provisioning`]). A fetch is checked like a sign-in
//! (`super::machines`). Every fetch that names known credentials is
//! audited in the device's tenant.

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Voxport, machines::Throttled};
use crate::{
    actor::Actor,
    audit::{AuditAction, AuditEvent, TargetType},
    auth::MachineSecret,
    device::{Device, MacAddress},
    errors::ProvisioningRefused,
    extension::{ExtensionType, SipSecret},
    ports::{SecretsOf, Store},
    provisioning::{DeviceFetch, PhoneConfig, PhoneLine, ProvisioningCredentials, Registrar, StoredProvisioning},
    throttle::SignInKeys,
    user::UserStatus,
};

/// Why a fetch with the right credentials got no configuration, for the
/// audit log (the phone is told 404 alike).
#[derive(Debug, Clone, Copy)]
enum NotServed {
    /// The path names another device's MAC address, or none.
    OtherMac,
    /// The device serves nobody.
    Unassigned,
    /// Its user may not sign in now (disabled, expired, not yet active).
    UserNotActive,
}

impl NotServed {
    fn as_str(self) -> &'static str {
        match self {
            Self::OtherMac => "other_mac",
            Self::Unassigned => "unassigned",
            Self::UserNotActive => "user_not_active",
        }
    }
}

fn device_event(
    action: AuditAction,
    found: &StoredProvisioning,
    fetch: &DeviceFetch<'_>,
    now: DateTime<Utc>,
) -> AuditEvent {
    AuditEvent {
        target_type: Some(TargetType::Device),
        target_id: Some(found.device_id),
        ..AuditEvent::anonymous(action, Some(found.tenant_id), None, fetch.ip, now)
    }
}

impl<S: Store> Voxport<S> {
    /// Gives device `id` of the actor's tenant new provisioning
    /// credentials, shown this once; the earlier ones stop working.
    /// `None` when there is no such device.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn issue_provisioning_credentials(
        &self,
        actor: &Actor,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<(Device, ProvisioningCredentials)>> {
        let credentials = ProvisioningCredentials::generate();
        let audit = AuditEvent::by(actor, AuditAction::DeviceProvisioningIssued, TargetType::Device, Some(id), now)
            .with(json!({"username": credentials.username}));
        let digest = credentials.password.digest();
        if !self.store.set_provisioning_credentials(actor.tenant_id, id, &credentials.username, &digest, &audit).await?
        {
            return Ok(None);
        }
        tracing::info!(actor = %actor.caller_id(), device = %id, "issued provisioning credentials");
        let device = self.store.device(actor.tenant_id, id).await?.context("a device vanished")?;
        Ok(Some((device, credentials)))
    }

    /// The configuration a desk phone fetches, checked like a sign-in.
    ///
    /// # Errors
    /// `Unauthenticated` (missing or wrong credentials, or locked out at
    /// the address), `TooMany` (the address fails too often), `NotFound`
    /// (see [`ProvisioningRefused::NotFound`]).
    pub async fn provision_device(
        &self,
        fetch: DeviceFetch<'_>,
        now: DateTime<Utc>,
    ) -> Result<PhoneConfig, ProvisioningRefused> {
        let Some((username, password)) = fetch.credentials else {
            return Err(ProvisioningRefused::Unauthenticated);
        };
        let keys = SignInKeys::device(username, fetch.ip);
        let state = match self.judge_machine(&keys, now).await? {
            Ok(state) => state,
            Err(Throttled::TooMany { retry_after }) => return Err(ProvisioningRefused::TooMany { retry_after }),
            Err(Throttled::Locked) => return Err(ProvisioningRefused::Unauthenticated),
        };
        let Some(found) = self.store.provisioning_login(username).await? else {
            self.machine_failed(&keys, now).await?;
            return Err(ProvisioningRefused::Unauthenticated);
        };
        if !MachineSecret::matches(password, &found.secret_hash) {
            self.machine_failed(&keys, now).await?;
            let audit = device_event(AuditAction::DeviceProvisioningFailed, &found, &fetch, now)
                .with(json!({"reason": "wrong_password", "format": fetch.format.as_str()}));
            self.store.record(&audit).await?;
            return Err(ProvisioningRefused::Unauthenticated);
        }
        self.machine_succeeded(&keys, &state, found.device_id, now).await?;
        match self.phone_config(&found, fetch.mac, now).await? {
            Err(why) => {
                let audit = device_event(AuditAction::DeviceProvisioningFailed, &found, &fetch, now)
                    .with(json!({"reason": why.as_str(), "format": fetch.format.as_str()}));
                self.store.record(&audit).await?;
                Err(ProvisioningRefused::NotFound)
            }
            Ok((config, user, extensions)) => {
                let audit = device_event(AuditAction::DeviceProvisioned, &found, &fetch, now).with(json!({
                    "user_id": user,
                    "extension_ids": extensions,
                    "format": fetch.format.as_str(),
                }));
                let ip = fetch.ip.map(|ip| ip.to_canonical().to_string());
                self.store.record_provisioning_fetch(found.device_id, ip, &audit).await?;
                tracing::info!(device = %found.device_id, user = %user, "served a desk phone its configuration");
                Ok(config)
            }
        }
    }

    /// What the device of `found` is told now, with its user and the
    /// extensions whose secrets it carries; or why it is told nothing.
    async fn phone_config(
        &self,
        found: &StoredProvisioning,
        mac: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Result<(PhoneConfig, Uuid, Vec<Uuid>), NotServed>> {
        if MacAddress::parse(mac).ok().as_ref() != Some(&found.mac) {
            return Ok(Err(NotServed::OtherMac));
        }
        let tenant = found.tenant_id;
        let Some(holder) = self.store.device(tenant, found.device_id).await?.and_then(|d| d.holder) else {
            return Ok(Err(NotServed::Unassigned));
        };
        let Some(user) = self.store.user(tenant, holder.user_id).await? else {
            return Ok(Err(NotServed::Unassigned));
        };
        if user.status(now) != UserStatus::Active {
            return Ok(Err(NotServed::UserNotActive));
        }
        let ports = user.device.as_ref().map_or(0, |d| usize::from(d.ports));
        let domain =
            self.sip_domain(&self.store.tenant_visible_to(tenant, tenant).await?.context("a tenant vanished")?);
        let full_name = format!("{} {}", user.first_name.as_str(), user.last_name.as_str());
        let sealed = self.store.sealed_sip_secrets(tenant, SecretsOf::User(user.id)).await?;
        let mut lines = Vec::with_capacity(ports);
        let mut extensions = Vec::new();
        for (extension, sealed) in sealed.into_iter().filter(|(e, _)| e.kind == ExtensionType::Sip).take(ports) {
            let secret = self.secrets.open_string(&sealed, &SipSecret::context(extension.id))?;
            extensions.push(extension.id);
            lines.push(Some(PhoneLine {
                number: extension.number.as_str().to_owned(),
                username: extension.sip_username,
                secret: SipSecret::from_opened(secret),
                display_name: extension.name.map_or_else(|| full_name.clone(), |n| n.as_str().to_owned()),
            }));
        }
        lines.resize_with(ports, || None);
        let registrar = Registrar { domain, server: self.settings.sip_server.clone(), port: self.settings.sip_port };
        let config = PhoneConfig {
            mac: found.mac.clone(),
            registrar,
            lines,
            timezone: user.timezone,
            language: user.language,
            made_at: now,
        };
        Ok(Ok((config, user.id, extensions)))
    }
}
