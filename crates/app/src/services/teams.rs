//! Teams, their members and invites.

use basic_admin_core::authz::{Action, Decision, TeamRole, decide};
use basic_admin_core::model::{Account, Email, Username};
use basic_admin_core::store::{
    Constraint, Invite, InviteeKind, Member, NewTeam, Project, StoreError, Team, TeamMembership,
};
use basic_admin_core::time::{self, Timestamp};
use chrono::Duration;
use uuid::Uuid;

use super::access::{self, TeamAccess};
use super::slugs;
use crate::Caller;
use crate::Context;
use crate::crypto::{constant_time_eq, random_token, token_hash};
use crate::error::{AppError, AppResult, Thing};
use crate::mail::letters;

pub const DEFAULT_INVITE_DAYS: i64 = 7;
pub const MAX_INVITE_DAYS: i64 = 90;
/// Invites one account may send in an hour (see `auth::throttle::invites`).
pub const MAX_INVITES_PER_HOUR: u32 = 50;

pub async fn list(ctx: &Context, caller: &Caller) -> AppResult<Vec<TeamMembership>> {
    let account_id = caller.developer()?.account_id;
    Ok(ctx.store.teams_of(account_id).await?)
}

/// The caller's team with this slug, and their membership: as a team's
/// address in the console reads. Not a member: not found.
pub async fn by_slug(ctx: &Context, caller: &Caller, slug: &str) -> AppResult<TeamMembership> {
    let teams = list(ctx, caller).await?;
    teams.into_iter().find(|t| t.team.slug.as_str() == slug).ok_or(AppError::NotFound(Thing::Team))
}

pub async fn create(ctx: &Context, caller: &Caller, name: &str, slug: &str) -> AppResult<Team> {
    let owner = caller.developer()?.account_id;
    let name = slugs::name(name)?;
    let slug = slugs::parse(slug)?;
    let new = NewTeam { id: Uuid::new_v4(), name, slug, owner, created_at: time::now() };
    ctx.store.create_team(new).await.map_err(|e| match e {
        StoreError::Unique(Constraint::TeamSlug) => slugs::taken("team"),
        other => other.into(),
    })
}

pub struct TeamDetail {
    pub team: Team,
    pub owner_id: Option<Uuid>,
    pub members: Vec<Member>,
    pub projects: Vec<Project>,
    pub invites: Vec<Invite>,
}

pub async fn get(ctx: &Context, caller: &Caller, team_id: &str) -> AppResult<TeamDetail> {
    let TeamAccess { team, role, .. } = access::team(ctx, caller, team_id, Action::ViewTeam).await?;
    let members = ctx.store.members(team.id).await?;
    let owner_id = members.iter().find(|m| m.roles == TeamRole::Owner).map(|m| m.account_id);
    Ok(TeamDetail {
        owner_id,
        projects: ctx.store.projects_of_team(team.id).await?,
        invites: pending_invites_for(ctx, team.id, role).await?,
        members,
        team,
    })
}

/// The team's pending invites, for those who may see them; an empty list for others.
async fn pending_invites_for(ctx: &Context, team: Uuid, role: TeamRole) -> AppResult<Vec<Invite>> {
    match decide(role, Action::ViewInvites) {
        Decision::Allow => Ok(ctx.store.pending_invites(team, time::now()).await?),
        Decision::Deny => Ok(Vec::new()),
    }
}

pub async fn owner_of(ctx: &Context, team_id: Uuid) -> AppResult<Option<Uuid>> {
    Ok(ctx.store.members(team_id).await?.into_iter().find(|m| m.roles == TeamRole::Owner).map(|m| m.account_id))
}

pub async fn update(
    ctx: &Context,
    caller: &Caller,
    team_id: &str,
    name: Option<&str>,
    slug: Option<&str>,
) -> AppResult<Team> {
    let TeamAccess { team, .. } = access::team(ctx, caller, team_id, Action::UpdateTeam).await?;
    let name = name.map(slugs::name).transpose()?;
    let slug = slug.map(slugs::parse).transpose()?;
    if name.is_none() && slug.is_none() {
        return Err(AppError::invalid("nothing_to_update", "Give a new name, a new slug, or both."));
    }
    ctx.store.update_team(team.id, name, slug, time::now()).await.map_err(|e| match e {
        StoreError::Unique(Constraint::TeamSlug) => slugs::taken("team"),
        other => other.into(),
    })
}

pub async fn delete(ctx: &Context, caller: &Caller, team_id: &str) -> AppResult<()> {
    let TeamAccess { team, .. } = access::team(ctx, caller, team_id, Action::DeleteTeam).await?;
    let has_projects = || AppError::invalid("team_has_projects", "Delete or move the team's projects first.");
    if !ctx.store.projects_of_team(team.id).await?.is_empty() {
        return Err(has_projects());
    }
    ctx.store.delete_team(team.id).await.map_err(|e| match e {
        // A project created meanwhile.
        StoreError::ForeignKey => has_projects(),
        other => other.into(),
    })
}

pub async fn members(ctx: &Context, caller: &Caller, team_id: &str) -> AppResult<Vec<Member>> {
    let TeamAccess { team, .. } = access::team(ctx, caller, team_id, Action::ViewTeam).await?;
    Ok(ctx.store.members(team.id).await?)
}

/// The team's members with their accounts (name and email), for people to read.
pub async fn roster(ctx: &Context, caller: &Caller, team_id: &str) -> AppResult<Vec<(Member, Option<Account>)>> {
    let mut roster = Vec::new();
    for member in members(ctx, caller, team_id).await? {
        let account = ctx.store.account_by_id(member.account_id).await?;
        roster.push((member, account));
    }
    Ok(roster)
}

fn parse_role(roles: &str) -> AppResult<TeamRole> {
    roles.parse().map_err(|e: basic_admin_core::authz::RoleError| AppError::invalid("invalid_roles", format!("{e}.")))
}

fn clean_role_name(role_name: Option<&str>) -> AppResult<Option<String>> {
    match role_name.map(str::trim) {
        None | Some("") => Ok(None),
        Some(name) if name.chars().count() <= 50 && !name.chars().any(char::is_control) => Ok(Some(name.to_owned())),
        Some(_) => Err(AppError::invalid("invalid_role_name", "A role name is at most 50 characters.")),
    }
}

/// Changes a member's role or role name. Making someone `owner` transfers
/// ownership (the owner only); the owner's own role changes only that way.
pub async fn update_member(
    ctx: &Context,
    caller: &Caller,
    team_id: &str,
    member_id: &str,
    roles: Option<&str>,
    role_name: Option<Option<&str>>,
) -> AppResult<Member> {
    let TeamAccess { team, role, account_id } = access::team(ctx, caller, team_id, Action::ManageMembers).await?;
    let member_id = access::parse_id(member_id, Thing::Member)?;
    let target = ctx.store.member(team.id, member_id).await?.ok_or(AppError::NotFound(Thing::Member))?;
    let new_role = roles.map(parse_role).transpose()?;
    let role_name = role_name.map(clean_role_name).transpose()?;
    if new_role.is_none() && role_name.is_none() {
        return Err(AppError::invalid("nothing_to_update", "Give new roles, a new role_name, or both."));
    }
    let now = time::now();
    match new_role {
        Some(TeamRole::Owner) if target.roles != TeamRole::Owner => {
            access::require(role, Action::TransferOwnership)?;
            ctx.store.transfer_ownership(team.id, account_id, member_id, now).await?;
        }
        Some(other) if target.roles == TeamRole::Owner && other != TeamRole::Owner => {
            return Err(AppError::invalid(
                "owner_required",
                "A team always has an owner: make another member owner to hand the team over.",
            ));
        }
        _ => {}
    }
    let roles = new_role.filter(|r| *r != TeamRole::Owner);
    Ok(ctx.store.update_member(team.id, member_id, roles, role_name, now).await?)
}

/// Removes a member; anyone but the owner may also leave on their own.
pub async fn remove_member(ctx: &Context, caller: &Caller, team_id: &str, member_id: &str) -> AppResult<()> {
    let leaving = caller.developer()?.account_id.to_string() == member_id;
    let action = if leaving { Action::ViewTeam } else { Action::ManageMembers };
    let TeamAccess { team, .. } = access::team(ctx, caller, team_id, action).await?;
    let member_id = access::parse_id(member_id, Thing::Member)?;
    let target = ctx.store.member(team.id, member_id).await?.ok_or(AppError::NotFound(Thing::Member))?;
    if target.roles == TeamRole::Owner {
        return Err(AppError::invalid(
            "owner_required",
            "The owner cannot be removed: make another member owner first.",
        ));
    }
    Ok(ctx.store.remove_member(team.id, member_id).await?)
}

pub struct NewInvite<'a> {
    pub email: Option<&'a str>,
    pub username: Option<&'a str>,
    pub roles: &'a str,
    pub role_name: Option<&'a str>,
    pub expires_at: Option<Timestamp>,
}

/// A new invite, and for one made out to an email its token: shown this
/// once, stored only as a hash. The answer never tells whether the invitee
/// has an account.
pub async fn invite(
    ctx: &Context,
    caller: &Caller,
    team_id: &str,
    new: NewInvite<'_>,
) -> AppResult<(Invite, Option<String>)> {
    let TeamAccess { team, account_id, .. } = access::team(ctx, caller, team_id, Action::ManageMembers).await?;
    ctx.invite_throttle.on_failure(&[(account_id, MAX_INVITES_PER_HOUR)]).map_err(|wait| AppError::TooMany {
        wait,
        message: format!("At most {MAX_INVITES_PER_HOUR} invites an hour; try again later."),
    })?;
    let (kind, invitee) =
        match (new.email.filter(|e| !e.trim().is_empty()), new.username.filter(|u| !u.trim().is_empty())) {
            (Some(email), None) => {
                let email = Email::parse(email).map_err(|e| AppError::invalid("invalid_email", format!("{e}.")))?;
                (InviteeKind::Email, email.as_str().to_owned())
            }
            (None, Some(username)) => {
                let username =
                    Username::parse(username).map_err(|e| AppError::invalid("invalid_username", format!("{e}.")))?;
                (InviteeKind::Username, username.as_str().to_owned())
            }
            _ => return Err(AppError::invalid("invalid_invitee", "Give exactly one of email and username.")),
        };
    let role = parse_role(new.roles)?;
    if role == TeamRole::Owner {
        return Err(AppError::invalid(
            "invalid_roles",
            "Invite as admin, member or viewer; ownership is handed over, not invited.",
        ));
    }
    let role_name = clean_role_name(new.role_name)?;
    let now = time::now();
    let expires_at = new.expires_at.unwrap_or(now + Duration::days(DEFAULT_INVITE_DAYS));
    if expires_at <= now || expires_at > now + Duration::days(MAX_INVITE_DAYS) {
        return Err(AppError::invalid(
            "invalid_expires_at",
            format!("expires_at must be in the next {MAX_INVITE_DAYS} days."),
        ));
    }
    let existing = match kind {
        InviteeKind::Email => ctx.store.account_by_email(&invitee).await?,
        InviteeKind::Username => ctx.store.account_by_username(&invitee).await?,
    };
    if let Some(account) = &existing
        && ctx.store.member(team.id, account.id).await?.is_some()
    {
        return Err(AppError::invalid("already_member", "This account is already a member of the team."));
    }
    let pending = ctx.store.pending_invites(team.id, now).await?;
    if pending.iter().any(|i| i.invitee_kind == kind && i.invitee.eq_ignore_ascii_case(&invitee)) {
        return Err(AppError::invalid("duplicate_invite", "There is already a pending invite for this account."));
    }
    let token = (kind == InviteeKind::Email).then(random_token);
    let invite = Invite {
        id: Uuid::new_v4(),
        team_id: team.id,
        invitee_kind: kind,
        invitee,
        roles: role,
        role_name,
        invited_by: Some(account_id),
        created_at: now,
        expires_at,
        accepted_at: None,
        token_hash: token.as_deref().map(token_hash),
    };
    ctx.store.create_invite(invite.clone()).await?;
    if let (Some(token), Some(mailer)) = (&token, ctx.mail.as_deref()) {
        let inviter = ctx.store.account_by_id(account_id).await?;
        let inviter = inviter.map(|a| if a.name.is_empty() { a.email } else { a.name }).unwrap_or_default();
        let link = invite_link(ctx, invite.id, token);
        // The invite stands whether or not its letter goes: its token is in the answer too.
        if let Err(e) = mailer.send(letters::invite(&invite.invitee, &team.name, &inviter, &link)) {
            tracing::warn!(error = %e, "no invite letter");
        }
    }
    Ok((invite, token))
}

/// Where an invite's letter sends its reader.
pub const INVITE_PATH: &str = "/auth/invite";

/// The link that accepts an invite made out to an email (it holds the token).
pub fn invite_link(ctx: &Context, invite: Uuid, token: &str) -> String {
    format!("{}{INVITE_PATH}/{invite}?token={token}", ctx.settings.public_url)
}

/// An invite as its invitee sees it before accepting: which team, which role.
pub async fn invite_for_invitee(ctx: &Context, invite_id: &str) -> AppResult<(Invite, Team)> {
    let invite_id = access::parse_id(invite_id, Thing::Invite)?;
    let invite = ctx.store.invite_by_id(invite_id).await?.ok_or(AppError::NotFound(Thing::Invite))?;
    let team = ctx.store.team_by_id(invite.team_id).await?.ok_or(AppError::NotFound(Thing::Invite))?;
    Ok((invite, team))
}

pub async fn invites(ctx: &Context, caller: &Caller, team_id: &str) -> AppResult<Vec<Invite>> {
    let TeamAccess { team, role, .. } = access::team(ctx, caller, team_id, Action::ViewTeam).await?;
    pending_invites_for(ctx, team.id, role).await
}

pub async fn delete_invite(ctx: &Context, caller: &Caller, team_id: &str, invite_id: &str) -> AppResult<()> {
    let TeamAccess { team, .. } = access::team(ctx, caller, team_id, Action::ManageMembers).await?;
    let invite_id = access::parse_id(invite_id, Thing::Invite)?;
    ctx.store.delete_invite(team.id, invite_id).await.map_err(AppError::or_not_found(Thing::Invite))
}

/// Joins the team of an invite: one made out to an email with the invite's
/// token or by the account whose confirmed email it is (an unconfirmed one
/// proves nothing), one made out to a username by that account.
pub async fn accept(ctx: &Context, caller: &Caller, invite_id: &str, token: Option<&str>) -> AppResult<Member> {
    let account_id = caller.developer()?.account_id;
    let account = ctx.store.account_by_id(account_id).await?.ok_or(AppError::NotFound(Thing::Invite))?;
    accept_as(ctx, &account, invite_id, token).await
}

/// [`accept`] for an account signed in on the server's own pages.
pub async fn accept_as(ctx: &Context, account: &Account, invite_id: &str, token: Option<&str>) -> AppResult<Member> {
    let account_id = account.id;
    let invite_id = access::parse_id(invite_id, Thing::Invite)?;
    let invite = ctx.store.invite_by_id(invite_id).await?.ok_or(AppError::NotFound(Thing::Invite))?;
    let for_caller = match (invite.invitee_kind, token.map(str::trim).filter(|t| !t.is_empty())) {
        (InviteeKind::Email, None)
            if account.email_verified() && account.email.eq_ignore_ascii_case(&invite.invitee) =>
        {
            true
        }
        (InviteeKind::Email, None) => {
            return Err(AppError::invalid(
                "invite_token_required",
                "This invite was made out to an email address: accept it with the token that came with it, \
                 or from the account that has confirmed that address.",
            ));
        }
        (InviteeKind::Email, Some(token)) => invite
            .token_hash
            .as_deref()
            .is_some_and(|stored| constant_time_eq(stored.as_bytes(), token_hash(token).as_bytes())),
        (InviteeKind::Username, _) => {
            account.username.as_deref().is_some_and(|u| u.eq_ignore_ascii_case(&invite.invitee))
        }
    };
    if !for_caller {
        // Someone else's invite: say nothing about it.
        return Err(AppError::NotFound(Thing::Invite));
    }
    if invite.accepted_at.is_some() {
        return Err(AppError::invalid("invite_used", "This invite has been accepted already."));
    }
    if invite.expires_at <= time::now() {
        return Err(AppError::invalid("invite_expired", "This invite has expired; ask for a new one."));
    }
    if ctx.store.member(invite.team_id, account_id).await?.is_some() {
        return Err(AppError::invalid("already_member", "You are already a member of this team."));
    }
    ctx.store.accept_invite(&invite, account_id, time::now()).await.map_err(|e| match e {
        StoreError::NotFound => AppError::invalid("invite_used", "This invite has been accepted already."),
        StoreError::Unique(Constraint::TeamMember) => {
            AppError::invalid("already_member", "You are already a member of this team.")
        }
        other => other.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;

    fn email_invite(email: &str) -> NewInvite<'_> {
        NewInvite { email: Some(email), username: None, roles: "member", role_name: None, expires_at: None }
    }

    async fn team_of(f: &Fixture, owner: &Caller) -> String {
        create(&f.ctx, owner, "Crew", "crew").await.unwrap().id.to_string()
    }

    #[tokio::test]
    async fn an_email_invite_is_accepted_with_its_token_and_once() {
        let f = Fixture::new().await;
        let owner = f.developer("owner").await;
        let guest = f.developer("guest").await;
        let team = team_of(&f, &owner).await;
        let (invite, token) = invite(&f.ctx, &owner, &team, email_invite("guest@example.com")).await.unwrap();
        let token = token.expect("an email invite has a token");
        let id = invite.id.to_string();

        let without = accept(&f.ctx, &guest, &id, None).await;
        assert!(matches!(without, Err(AppError::Invalid { code: "invite_token_required", .. })));
        let wrong = accept(&f.ctx, &guest, &id, Some("not-the-token")).await;
        assert!(matches!(wrong, Err(AppError::NotFound(Thing::Invite))), "a wrong token tells nothing");

        let member = accept(&f.ctx, &guest, &id, Some(&token)).await.unwrap();
        assert_eq!(member.roles, TeamRole::Member);
        let again = accept(&f.ctx, &guest, &id, Some(&token)).await;
        assert!(matches!(again, Err(AppError::Invalid { code: "invite_used", .. })));
    }

    #[tokio::test]
    async fn an_email_invite_is_accepted_without_its_token_by_the_confirmed_owner_of_the_address() {
        let f = Fixture::new().await;
        let owner = f.developer("owner").await;
        let guest = f.developer("guest").await;
        let other = f.developer("other").await;
        let team = team_of(&f, &owner).await;
        let (invite, _) = invite(&f.ctx, &owner, &team, email_invite("GUEST@example.com")).await.unwrap();
        let id = invite.id.to_string();
        let unconfirmed = accept(&f.ctx, &guest, &id, None).await;
        assert!(matches!(unconfirmed, Err(AppError::Invalid { code: "invite_token_required", .. })));

        let now = time::now();
        for who in [&guest, &other] {
            let account_id = who.developer().unwrap().account_id;
            let account = f.ctx.store.account_by_id(account_id).await.unwrap().unwrap();
            assert!(f.ctx.store.mark_email_verified(account_id, &account.email, now).await.unwrap());
        }
        let not_theirs = accept(&f.ctx, &other, &id, None).await;
        assert!(matches!(not_theirs, Err(AppError::Invalid { code: "invite_token_required", .. })));
        let member = accept(&f.ctx, &guest, &id, None).await.unwrap();
        assert_eq!(member.roles, TeamRole::Member);
    }

    #[tokio::test]
    async fn invites_are_checked_before_anything_is_stored() {
        let f = Fixture::new().await;
        let owner = f.developer("owner").await;
        let team = team_of(&f, &owner).await;
        let as_owner = NewInvite { roles: "owner", ..email_invite("x@example.com") };
        assert!(matches!(
            invite(&f.ctx, &owner, &team, as_owner).await,
            Err(AppError::Invalid { code: "invalid_roles", .. })
        ));
        let both = NewInvite { username: Some("x"), ..email_invite("x@example.com") };
        assert!(matches!(
            invite(&f.ctx, &owner, &team, both).await,
            Err(AppError::Invalid { code: "invalid_invitee", .. })
        ));
        invite(&f.ctx, &owner, &team, email_invite("x@example.com")).await.unwrap();
        assert!(matches!(
            invite(&f.ctx, &owner, &team, email_invite("X@example.com")).await,
            Err(AppError::Invalid { code: "duplicate_invite", .. })
        ));
        assert_eq!(invites(&f.ctx, &owner, &team).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn ownership_is_handed_over_never_dropped() {
        let f = Fixture::new().await;
        let owner = f.developer("owner").await;
        let heir = f.developer("heir").await;
        let team = team_of(&f, &owner).await;
        let by_name = NewInvite { email: None, username: Some("heir"), ..email_invite("") };
        let (invite, _) = invite(&f.ctx, &owner, &team, by_name).await.unwrap();
        accept(&f.ctx, &heir, &invite.id.to_string(), None).await.unwrap();
        let owner_id = owner.developer().unwrap().account_id.to_string();
        let heir_id = heir.developer().unwrap().account_id.to_string();

        let demoted = update_member(&f.ctx, &owner, &team, &owner_id, Some("admin"), None).await;
        assert!(matches!(demoted, Err(AppError::Invalid { code: "owner_required", .. })));

        let promoted = update_member(&f.ctx, &owner, &team, &heir_id, Some("owner"), None).await.unwrap();
        assert_eq!(promoted.roles, TeamRole::Owner);
        let team_id = Uuid::parse_str(&team).unwrap();
        assert_eq!(owner_of(&f.ctx, team_id).await.unwrap(), Some(heir.developer().unwrap().account_id));
        let former = f.ctx.store.member(team_id, owner.developer().unwrap().account_id).await.unwrap().unwrap();
        assert_eq!(former.roles, TeamRole::Admin, "the former owner stays, as an admin");

        let back = update_member(&f.ctx, &owner, &team, &owner_id, Some("owner"), None).await;
        assert!(matches!(back, Err(AppError::Forbidden { .. })), "only the owner hands ownership over");
    }
}
