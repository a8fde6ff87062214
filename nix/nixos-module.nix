# NixOS module: programs.nix-tokens.
#
# Tokens never enter the Nix store: `tokenFiles` are secret files (sops-nix, agenix, …) that the
# system nix.conf reads at run time through `!include`, which skips a missing or unreadable file
# (a plain `include` would fail NixOS's build-time check of nix.conf). The timer runs
# `nix-tokens --system refresh`, which renews the OAuth logins kept in /etc/nix.
self:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.programs.nix-tokens;
  systemTokenFile = "/etc/nix/access-tokens.conf";
  includes = cfg.tokenFiles ++ lib.optional cfg.systemTokens systemTokenFile;
  git = cfg.gitCredentialHelper;

  # git's system configuration: root's git reads it too, so `sudo nixos-rebuild` and
  # `darwin-rebuild` get nix-tokens' answer for git+https inputs (from root's own files, which
  # `nix-tokens --system import` fills). Given to programs.git.config as a list, it becomes sections
  # of their own after the others: another helper list for the same host then adds to git's
  # helpers instead of conflicting with this one.
  gitSections = {
    credential = lib.genAttrs (map (host: "https://${host}") git.hosts) (
      _: { helper = [ "!${lib.getExe cfg.package} git-credential" ]; }
      // lib.optionalAttrs git.useHttpPath { useHttpPath = true; }
    );
  };

  # The host of a substituter URL (curl matches netrc entries by host).
  hostOf = url: builtins.head (builtins.match "[a-z0-9+]+://([^/:?]+).*" url);
  cachesWithTokens = builtins.filter (c: c.tokenFile != null) cfg.caches;
in
{
  imports = [ (import ./shared-options.nix self) ];

  options.programs.nix-tokens = {
    tokenFiles = lib.mkOption {
      type = lib.types.listOf (
        lib.types.pathWith {
          inStore = false;
          absolute = true;
        }
      );
      default = [ ];
      example = lib.literalExpression ''[ config.sops.secrets."nix-access-tokens".path ]'';
      description = ''
        Secret files, each holding lines such as `access-tokens = github.com=ghp_…`, added to the
        system nix.conf with `!include`. They are read when Nix runs and are never copied to the
        store.

        Nix reads a file only when the process running Nix can: root and the nix-daemon always,
        a user only when the file's permissions let that user read it. Flake inputs are fetched by
        the user's own `nix` process, not the daemon, so a root-only file gives those fetches no
        token. Make the file readable by a group of trusted users (with sops-nix:
        `group` and `mode = "0440"`) when they need it; everyone who can read it can use the token.
      '';
    };

    systemTokens = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Include ${systemTokenFile}, the file that `nix-tokens --system login` and
        `nix-tokens --system set-token` manage. nix-tokens writes it with mode 0600, owned by root,
        so only root (and the nix-daemon) can use those tokens; see `tokenFiles` for why users'
        fetches do not see them.
      '';
    };

    cacheTokens = lib.mkOption {
      type = lib.types.attrsOf (
        lib.types.submodule {
          options = {
            file = lib.mkOption {
              type = lib.types.pathWith {
                inStore = false;
                absolute = true;
              };
              description = "A secret file holding the cache's token alone.";
            };
            provider = lib.mkOption {
              type = lib.types.str;
              default = "nix-cache";
              example = "cachix";
              description = "The cache's provider (cachix, attic, flakehub or nix-cache).";
            };
            login = lib.mkOption {
              type = lib.types.nullOr lib.types.str;
              default = null;
              description = "The netrc login beside the token (default: the provider's).";
            };
          };
        }
      );
      default = { };
      example = lib.literalExpression ''
        {
          "mycache.cachix.org" = { file = config.sops.secrets.cachix.path; provider = "cachix"; };
          "attic.example.com".file = config.age.secrets.attic.path;
        }
      '';
      description = ''
        Binary cache tokens, by the cache's host, merged into the netrc the nix-daemon reads
        (`/etc/nix/netrc`, or the system's `netrc-file`) when the system starts and on every switch
        that changes them. The daemon, not a user's `nix`, downloads from substituters, so this is
        where their credentials must be. The secret files (sops-nix, agenix, …) are read by the
        service at run time and never copied to the store; every other netrc entry is kept.
      '';
    };

    caches = import ./caches-option.nix lib;

    refresh = {
      enable = lib.mkEnableOption "a systemd timer that renews expiring OAuth tokens in ${systemTokenFile}";
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        environment.systemPackages = [ cfg.package ];

        nix.extraOptions = lib.concatMapStrings (file: "!include ${file}\n") includes;

        nix.settings = lib.mkIf (cfg.caches != [ ]) {
          substituters = map (c: c.url) cfg.caches;
          trusted-public-keys = lib.concatMap (c: lib.optional (c.publicKey != null) c.publicKey) cfg.caches;
        };

        programs.nix-tokens.cacheTokens = lib.listToAttrs (
          map (
            c:
            lib.nameValuePair (hostOf c.url) {
              file = c.tokenFile;
              inherit (c) provider;
            }
          ) cachesWithTokens
        );

        warnings = lib.optional (cfg.refresh.enable && !cfg.systemTokens) ''
          programs.nix-tokens.refresh renews the tokens in ${systemTokenFile}, but the system nix.conf
          includes that file only with programs.nix-tokens.systemTokens = true.'';

        systemd.services.nix-tokens-cache-tokens = lib.mkIf (cfg.cacheTokens != { }) {
          description = "Merge binary cache tokens into the nix-daemon's netrc";
          wantedBy = [ "multi-user.target" ];
          before = [ "nix-daemon.service" ];
          # Restarted by a switch whenever the hosts, files or providers change.
          restartTriggers = [ (builtins.toJSON cfg.cacheTokens) ];
          serviceConfig = {
            Type = "oneshot";
            RemainAfterExit = true;
            PrivateTmp = true;
            ProtectHome = true;
            NoNewPrivileges = true;
          };
          script = lib.concatStrings (
            lib.mapAttrsToList (
              host: token:
              lib.escapeShellArgs (
                [
                  (lib.getExe cfg.package)
                  "--system"
                  "--quiet"
                  "set-token"
                  host
                  "--provider"
                  token.provider
                  "--netrc"
                  "--force"
                ]
                ++ lib.optionals (token.login != null) [
                  "--login"
                  token.login
                ]
              )
              + " < ${lib.escapeShellArg token.file}\n"
            ) cfg.cacheTokens
          );
        };

        systemd.services.nix-tokens-refresh = lib.mkIf cfg.refresh.enable {
          description = "Renew expiring Nix access tokens";
          after = [ "network-online.target" ];
          wants = [ "network-online.target" ];
          serviceConfig = {
            Type = "oneshot";
            ExecStart = "${lib.getExe cfg.package} --system refresh --quiet --threshold ${toString (2 * cfg.refresh.interval)}";
            PrivateTmp = true;
            ProtectHome = true;
            NoNewPrivileges = true;
          };
        };

        systemd.timers.nix-tokens-refresh = lib.mkIf cfg.refresh.enable {
          description = "Renew expiring Nix access tokens every ${toString cfg.refresh.interval} minutes";
          wantedBy = [ "timers.target" ];
          timerConfig = {
            OnBootSec = "2min";
            OnUnitActiveSec = "${toString cfg.refresh.interval}min";
            RandomizedDelaySec = "30s";
          };
        };
      }

      (lib.mkIf git.enable {
        programs.git.enable = lib.mkDefault true;
        programs.git.config = [ gitSections ];
        warnings = lib.optional (!config.programs.git.enable) ''
          programs.nix-tokens.gitCredentialHelper is enabled but programs.git.enable is off, so NixOS
          writes no /etc/gitconfig and git never asks nix-tokens.'';
      })
    ]
  );
}
