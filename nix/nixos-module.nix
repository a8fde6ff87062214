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
in
{
  options.programs.nix-tokens = {
    enable = lib.mkEnableOption "nix-tokens, which puts code forge access tokens where Nix reads them";

    package = lib.mkOption {
      type = lib.types.package;
      default = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      defaultText = lib.literalExpression "nix-tokens.packages.\${system}.default";
      description = "The nix-tokens package to install.";
    };

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

    refresh = {
      enable = lib.mkEnableOption "a systemd timer that renews expiring OAuth tokens in ${systemTokenFile}";

      interval = lib.mkOption {
        type = lib.types.ints.positive;
        default = 30;
        description = ''
          Minutes between two runs of `nix-tokens --system refresh`. Each run renews tokens with
          less than twice this long left, so a token never expires between two runs.
        '';
      };
    };
  };

  config = lib.mkIf cfg.enable {
    environment.systemPackages = [ cfg.package ];

    nix.extraOptions = lib.concatMapStrings (file: "!include ${file}\n") includes;

    warnings = lib.optional (cfg.refresh.enable && !cfg.systemTokens) ''
      programs.nix-tokens.refresh renews the tokens in ${systemTokenFile}, but the system nix.conf
      includes that file only with programs.nix-tokens.systemTokens = true.'';

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
  };
}
