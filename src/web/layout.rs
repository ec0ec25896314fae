//! What the base layout needs on every page: who is signed in, which area of
//! the navigation is current, and a message left by the previous request.

use super::{
    assets,
    session::{CurrentUser, Session},
};

/// Navigation areas of the top bar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    None,
    Home,
    Incidents,
    ActionItems,
    Review,
    Themes,
    Services,
    Admin,
    Account,
}

pub struct Layout {
    pub user: Option<CurrentUser>,
    /// Sent back by every form on the page (see [`super::session`]).
    pub csrf_token: String,
    pub flash: Option<String>,
    pub nav: Nav,
}

impl Layout {
    /// The layout of error pages, which have no forms and no session.
    pub fn anonymous() -> Layout {
        Layout {
            user: None,
            csrf_token: String::new(),
            flash: None,
            nav: Nav::None,
        }
    }

    /// The layout of pages a visitor sees before signing in (sign-in, setup).
    pub fn for_session(session: &Session) -> Layout {
        Layout {
            user: session.user.clone(),
            csrf_token: session.csrf_token.clone(),
            flash: session.flash.clone(),
            nav: Nav::None,
        }
    }

    pub fn for_user(user: &CurrentUser, nav: Nav) -> Layout {
        Layout {
            user: Some(user.clone()),
            csrf_token: user.csrf_token.clone(),
            flash: user.flash.clone(),
            nav,
        }
    }

    pub fn css_url(&self) -> &'static str {
        assets::stylesheet_url()
    }

    pub fn js_url(&self) -> &'static str {
        assets::script_url()
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(CurrentUser::is_admin)
    }

    /// Whether the reader may write (members and admins, not viewers).
    pub fn can_write(&self) -> bool {
        self.user.as_ref().is_some_and(CurrentUser::can_write)
    }

    /// `aria-current` for the navigation link of `area` ("home", "incidents",
    /// "action-items", "review", "themes", "services", "admin", "account").
    pub fn current(&self, area: &str) -> &'static str {
        let current = match self.nav {
            Nav::None => "",
            Nav::Home => "home",
            Nav::Incidents => "incidents",
            Nav::ActionItems => "action-items",
            Nav::Review => "review",
            Nav::Themes => "themes",
            Nav::Services => "services",
            Nav::Admin => "admin",
            Nav::Account => "account",
        };
        if current == area { "page" } else { "false" }
    }

    /// Initials for the avatar in the top bar.
    pub fn initials(&self) -> String {
        let Some(user) = &self.user else {
            return String::new();
        };
        user.display_name
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .take(2)
            .flat_map(char::to_uppercase)
            .collect()
    }
}

impl Layout {
    /// The flash message and whether it reports a refusal.
    pub fn flash_message(&self) -> Option<(bool, &str)> {
        let message = self.flash.as_deref()?;
        Some(match message.strip_prefix(super::session::REFUSAL_MARK) {
            Some(refusal) => (true, refusal),
            None => (false, message),
        })
    }

    /// The zone the reader sees times in.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.user
            .as_ref()
            .map(|user| user.time_zone)
            .unwrap_or(chrono_tz::Tz::UTC)
    }
}
