# home-manager module: programs.nix-tokens.
#
# nix-tokens keeps tokens in ~/.config/nix/access-tokens.conf. When home-manager generates
# nix.conf (a read-only link into the store), nix-tokens cannot add its include there, so this
# module adds `!include access-tokens.conf` through `nix.extraOptions` and the two never fight.
# With `gitCredentialHelper.enable`, git asks nix-tokens for the tokens of the hosts listed, so
# `git+https` flake inputs get them too (the same setting `nix-tokens git-credential --install`
# writes, here through `programs.git.settings`). Each host's helper is a list, as `programs.gh`
# defines its own, so that the two merge; nix-tokens comes after the helpers other modules set for
# the host, unless `gitCredentialHelper.ghFirst = false` puts it before gh's.
# With `store = "keyring"`, a systemd user service runs `nix-tokens unlock` when the session
# starts, so that Nix finds the keyring store's runtime copies.
self:
{
  config,
  lib,
  options,
  pkgs,
  ...
}:
let
  cfg = config.programs.nix-tokens;
  git = cfg.gitCredentialHelper;
  exe = lib.getExe cfg.package;
  helper = "!${exe} git-credential";
  refreshArgs = [
    "refresh"
    "--quiet"
    "--threshold"
    (toString (2 * cfg.refresh.interval))
  ];

  # The URLs for which programs.gh defines its helper list `[ "" "…/gh auth git-credential" ]`.
  gh = config.programs.gh;
  ghUrls = lib.optionals (
    options ? programs.gh && gh.enable && gh.gitCredentialHelper.enable
  ) gh.gitCredentialHelper.hosts;
  ghHelper = "${gh.package}/bin/gh auth git-credential";
  url = host: "https://${host}";
  sharedWithGh = lib.filter (host: lib.elem (url host) ghUrls) git.hosts;

  hostHelpers =
    host:
    if git.ghFirst == false && lib.elem host sharedWithGh then
      # gh's own list, with nix-tokens between its reset and gh.
      lib.mkForce [
        ""
        helper
        ghHelper
      ]
    else
      lib.mkAfter [ helper ];
in
{
  imports = [ (import ./shared-options.nix self) ];

  options.programs.nix-tokens = {
    includeTokenFile = lib.mkOption {
      type = lib.types.bool;
      default = config.nix.settings != { };
      defaultText = lib.literalExpression "config.nix.settings != { }";
      description = ''
        Add `!include access-tokens.conf` to the nix.conf home-manager generates. On by default
        when home-manager manages nix.conf through `nix.settings`; turn it on when you use only
        `nix.extraOptions`. Leave it off when you edit ~/.config/nix/nix.conf yourself:
        nix-tokens then adds the line on its own.
      '';
    };

    gitCredentialHelper.ghFirst = lib.mkOption {
      type = lib.types.nullOr lib.types.bool;
      default = null;
      example = false;
      description = ''
        For the hosts in `hosts` for which `programs.gh` also sets its helper (by default
        github.com): whether git asks gh first. `true` or `null` (the default, which also
        warns): gh answers whenever `gh auth login` was done, and nix-tokens only when gh has
        no login, so nix-tokens' tokens (owner tokens included) are not used by git for these
        hosts. `false`: nix-tokens answers first when it has a token, and gh otherwise; the
        host's helper list is then set to `[ "" nix-tokens gh ]`, replacing any other list
        defined for that host.
      '';
    };

    store = lib.mkOption {
      type = lib.types.enum [
        "file"
        "keyring"
      ];
      default = "file";
      example = "keyring";
      description = ''
        Where nix-tokens keeps tokens: `file` (access-tokens.conf and netrc beside nix.conf) or
        `keyring` (the OS keyring only; Nix reads a copy in the session's private runtime
        directory). With `keyring`, a systemd user service runs `nix-tokens unlock` when the
        session starts. Run `nix-tokens store keyring` once to move existing tokens. When
        home-manager writes nix.conf, add `!include /run/user/UID/nix-tokens/access-tokens.conf`
        to `nix.extraOptions` (the keyring store needs a per-user tmpfs, so not on Darwin).
      '';
    };

    refresh.enable = lib.mkEnableOption "a timer that renews expiring OAuth tokens (systemd on Linux, launchd on Darwin)";
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        home.packages = [ cfg.package ];
        nix.extraOptions = lib.mkIf cfg.includeTokenFile "!include access-tokens.conf\n";
      }

      (lib.mkIf git.enable {
        programs.git.settings.credential = lib.genAttrs (map url git.hosts) (
          u:
          {
            helper = hostHelpers (lib.removePrefix "https://" u);
          }
          // lib.optionalAttrs git.useHttpPath { useHttpPath = true; }
        );

        warnings =
          lib.optional (!config.programs.git.enable) ''
            programs.nix-tokens.gitCredentialHelper is enabled but programs.git.enable is not, so
            home-manager writes no git configuration and git never asks nix-tokens. Set
            programs.git.enable = true.''
          ++ lib.optional (git.ghFirst == null && sharedWithGh != [ ]) ''
            programs.gh's credential helper answers first for ${lib.concatMapStringsSep ", " url sharedWithGh}:
            git uses gh's token there whenever `gh auth login` was done, and asks nix-tokens only
            when gh has none. Set programs.nix-tokens.gitCredentialHelper.ghFirst = false to ask
            nix-tokens first (gh then answers when nix-tokens has no token), or true to keep this
            order without this warning.'';
      })

      (lib.mkIf (cfg.refresh.enable && pkgs.stdenv.hostPlatform.isLinux) {
        systemd.user.services.nix-tokens-refresh = {
          Unit.Description = "Renew expiring Nix access tokens";
          Service = {
            Type = "oneshot";
            ExecStart = lib.escapeShellArgs ([ exe ] ++ refreshArgs);
          };
        };
        systemd.user.timers.nix-tokens-refresh = {
          Unit.Description = "Renew expiring Nix access tokens every ${toString cfg.refresh.interval} minutes";
          Timer = {
            OnStartupSec = "2min";
            OnUnitActiveSec = "${toString cfg.refresh.interval}min";
          };
          Install.WantedBy = [ "timers.target" ];
        };
      })

      (lib.mkIf (cfg.store == "keyring" && pkgs.stdenv.hostPlatform.isLinux) {
        systemd.user.services.nix-tokens-unlock = {
          Unit = {
            Description = "Hand Nix the tokens of the nix-tokens keyring store";
            After = [ "dbus.socket" ];
          };
          Service = {
            Type = "oneshot";
            ExecStart = lib.escapeShellArgs [
              exe
              "unlock"
              "--quiet"
            ];
          };
          Install.WantedBy = [ "default.target" ];
        };
      })

      (lib.mkIf (cfg.store == "keyring" && pkgs.stdenv.hostPlatform.isDarwin) {
        warnings = [
          ''
            programs.nix-tokens.store = "keyring" needs a per-user tmpfs for the copies Nix reads,
            which macOS has not: nix-tokens refuses the keyring store there, and no agent is
            started. Keep store = "file" on Darwin.''
        ];
      })

      (lib.mkIf (cfg.refresh.enable && pkgs.stdenv.hostPlatform.isDarwin) {
        launchd.agents.nix-tokens-refresh = {
          enable = true;
          config = {
            ProgramArguments = [ exe ] ++ refreshArgs;
            StartInterval = cfg.refresh.interval * 60;
            RunAtLoad = true;
            ProcessType = "Background";
          };
        };
      })
    ]
  );
}
