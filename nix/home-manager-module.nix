# home-manager module: programs.nix-tokens.
#
# nix-tokens keeps tokens in ~/.config/nix/access-tokens.conf. When home-manager generates
# nix.conf (a read-only link into the store), nix-tokens cannot add its include there, so this
# module adds `!include access-tokens.conf` through `nix.extraOptions` and the two never fight.
# With `gitCredentialHelper.enable`, git asks nix-tokens for the tokens of the hosts listed, so
# `git+https` flake inputs get them too (the same setting `nix-tokens git-credential --install`
# writes, here through `programs.git`).
self:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.programs.nix-tokens;
  exe = lib.getExe cfg.package;
  refreshArgs = [
    "refresh"
    "--quiet"
    "--threshold"
    (toString (2 * cfg.refresh.interval))
  ];
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

    gitCredentialHelper = {
      enable = lib.mkEnableOption "nix-tokens as git's credential helper for `hosts`, so that git+https inputs get the tokens too";

      hosts = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [
          "github.com"
          "gitlab.com"
        ];
        example = [
          "github.com"
          "git.example.com"
        ];
        description = ''
          The hosts git asks nix-tokens for (`credential."https://HOST".helper`). Other helpers you
          set stay in place; a host without a token gets no answer, and git asks the next helper.
        '';
      };

      useHttpPath = lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = ''
          Set `credential."https://HOST".useHttpPath`, so that git names the repository and a
          token stored for one owner (`nix-tokens login github --owner my-org`) is chosen for it.
        '';
      };
    };

    refresh = {
      enable = lib.mkEnableOption "a timer that renews expiring OAuth tokens (systemd on Linux, launchd on Darwin)";

      interval = lib.mkOption {
        type = lib.types.ints.positive;
        default = 30;
        description = ''
          Minutes between two runs of `nix-tokens refresh`. Each run renews tokens with less than
          twice this long left, so a token never expires between two runs.
        '';
      };
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        home.packages = [ cfg.package ];
        nix.extraOptions = lib.mkIf cfg.includeTokenFile "!include access-tokens.conf\n";
      }

      (lib.mkIf cfg.gitCredentialHelper.enable {
        programs.git.extraConfig.credential = lib.genAttrs (map (host: "https://${host}") cfg.gitCredentialHelper.hosts) (_: {
          helper = "!${exe} git-credential";
          useHttpPath = cfg.gitCredentialHelper.useHttpPath;
        });
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
