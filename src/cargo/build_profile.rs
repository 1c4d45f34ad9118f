//! Which cargo profile to build, and the environment that switches debug
//! info on for a release build without touching the user's Cargo.toml.

use std::ffi::OsString;

use crate::cargo::args::BuildArgs;

/// What cargo's environment must say for a release build to keep what a
/// profile needs: debug info (file names, inlined frames) and symbols.
const RELEASE_WITH_DEBUG_INFO: [(&str, &str); 2] = [
    ("CARGO_PROFILE_RELEASE_DEBUG", "true"),
    ("CARGO_PROFILE_RELEASE_STRIP", "false"),
];

/// The cargo profile a build uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildProfile {
    /// `dev`: unoptimised, with debug info.
    Dev,
    /// `release`, with debug info switched on for this build only.
    Release,
    /// Any other profile, built as it is configured.
    Named(String),
}

impl BuildProfile {
    /// The profile `args` ask for: release unless --dev or --profile.
    pub fn of(args: &BuildArgs) -> BuildProfile {
        match args.profile.as_deref() {
            _ if args.dev => BuildProfile::Dev,
            None | Some("release") => BuildProfile::Release,
            Some("dev") => BuildProfile::Dev,
            Some(name) => BuildProfile::Named(name.to_owned()),
        }
    }

    /// The cargo flags that select the profile.
    pub fn cargo_args(&self) -> Vec<&str> {
        match self {
            BuildProfile::Dev => Vec::new(),
            BuildProfile::Release => vec!["--release"],
            BuildProfile::Named(name) => vec!["--profile", name],
        }
    }

    /// The environment the build needs: the release settings the user's own
    /// environment does not already give.
    pub fn env(&self) -> Vec<(&'static str, &'static str)> {
        self.env_given(|name| std::env::var_os(name))
    }

    /// The one-line note printed before a build whose settings autofold
    /// changed, saying what and how.
    pub fn note(&self) -> Option<String> {
        let env = self.env();
        if env.is_empty() {
            return None;
        }
        let settings: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Some(format!(
            "autofold: release build with debug info, for this build only ({}); --dev builds the dev profile",
            settings.join(" ")
        ))
    }

    fn env_given(
        &self,
        user_env: impl Fn(&str) -> Option<OsString>,
    ) -> Vec<(&'static str, &'static str)> {
        match self {
            BuildProfile::Release => RELEASE_WITH_DEBUG_INFO
                .into_iter()
                .filter(|(name, _)| user_env(name).is_none())
                .collect(),
            BuildProfile::Dev | BuildProfile::Named(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(dev: bool, profile: Option<&str>) -> BuildProfile {
        BuildProfile::of(&BuildArgs {
            dev,
            profile: profile.map(str::to_owned),
            ..BuildArgs::default()
        })
    }

    #[test]
    fn release_is_the_default_and_dev_or_profile_choose_another() {
        assert_eq!(profile(false, None), BuildProfile::Release);
        assert_eq!(profile(true, None), BuildProfile::Dev);
        assert_eq!(profile(false, Some("release")), BuildProfile::Release);
        assert_eq!(profile(false, Some("dev")), BuildProfile::Dev);
        assert_eq!(
            profile(false, Some("profiling")),
            BuildProfile::Named("profiling".into())
        );
    }

    #[test]
    fn only_release_gets_debug_info_and_the_users_own_setting_wins() {
        let none = |_: &str| None;
        assert_eq!(
            BuildProfile::Release.env_given(none),
            RELEASE_WITH_DEBUG_INFO.to_vec()
        );
        assert!(BuildProfile::Dev.env_given(none).is_empty());
        assert!(
            BuildProfile::Named("bench".into())
                .env_given(none)
                .is_empty()
        );
        let user_strips =
            |name: &str| (name == "CARGO_PROFILE_RELEASE_STRIP").then(|| "true".into());
        assert_eq!(
            BuildProfile::Release.env_given(user_strips),
            [("CARGO_PROFILE_RELEASE_DEBUG", "true")]
        );
    }
}
