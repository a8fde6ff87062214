# nix-darwin module: programs.nix-tokens.
#
# As on NixOS, tokens never enter the Nix store: `tokenFiles` (sops-nix, agenix, …) and, with
# `systemTokens`, /etc/nix/access-tokens.conf are added to the /etc/nix/nix.conf nix-darwin writes
# with `!include`, which skips a missing or unreadable file. With `nix.enable = false` (Nix managed
# by its installer, as with Determinate Nix) nix-darwin writes no nix.conf, so the module says
# which lines to add instead. The refresh job is a launchd daemon running
# `nix-tokens --system refresh` as root.
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
  systemTokenFile = "/etc/nix/access-tokens.conf";
  includes = cfg.tokenFiles ++ lib.optional cfg.systemTokens systemTokenFile;
  includeLines = lib.concatMapStrings (file: "!include ${file}\n") includes;
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
  # Each cache's token merged into the netrc the nix-daemon reads, as `set-token --system` does.
  cacheTokenScript = lib.concatMapStrings (
    c:
    lib.escapeShellArgs [
      (lib.getExe cfg.package)
      "--system"
      "--quiet"
      "set-token"
      (hostOf c.url)
      "--provider"
      c.provider
      "--netrc"
      "--force"
    ]
    + " < ${lib.escapeShellArg c.tokenFile}\n"
  ) cachesWithTokens;
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
        Secret files, each holding lines such as `access-tokens = github.com=ghp_…`, added to
        /etc/nix/nix.conf with `!include`. They are read when Nix runs and are never copied to the
        store. Nix reads a file only when the process running Nix can: the nix-daemon always, a
        user's own `nix` (which fetches flake inputs) only when the file's permissions allow it.
      '';
    };

    systemTokens = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        Include ${systemTokenFile}, the file that `sudo nix-tokens --system login` and
        `sudo nix-tokens --system set-token` manage (mode 0600, owned by root: only root and the
        nix-daemon can use those tokens).
      '';
    };

    caches = import ./caches-option.nix lib;

    refresh = {
      enable = lib.mkEnableOption "a launchd daemon that renews expiring OAuth tokens in ${systemTokenFile}";
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        environment.systemPackages = [ cfg.package ];

        nix.extraOptions = lib.mkIf config.nix.enable includeLines;

        nix.settings = lib.mkIf (config.nix.enable && cfg.caches != [ ]) {
          substituters = map (c: c.url) cfg.caches;
          trusted-public-keys = lib.concatMap (c: lib.optional (c.publicKey != null) c.publicKey) cfg.caches;
        };

        launchd.daemons.nix-tokens-cache-tokens = lib.mkIf (cachesWithTokens != [ ]) {
          # nix-darwin runs it as `/bin/wait4path /nix/store && exec COMMAND`, at every load (boot
          # and each activation that changes it).
          command = "/bin/sh -c ${lib.escapeShellArg cacheTokenScript}";
          serviceConfig = {
            RunAtLoad = true;
            ProcessType = "Background";
            StandardErrorPath = "/var/log/nix-tokens-cache-tokens.log";
          };
        };

        warnings =
          lib.optional (!config.nix.enable && includes != [ ]) ''
            nix.enable is off, so nix-darwin writes no /etc/nix/nix.conf and programs.nix-tokens cannot
            add its includes there. Add these lines to the nix.conf your Nix installation reads
            (with Determinate Nix, /etc/nix/nix.custom.conf):
            ${includeLines}''
          ++ lib.optional (!config.nix.enable && cfg.caches != [ ]) ''
            nix.enable is off, so nix-darwin writes no /etc/nix/nix.conf and programs.nix-tokens.caches
            cannot add its substituters there. Add them to the nix.conf your Nix installation reads
            (with Determinate Nix, /etc/nix/nix.custom.conf):
            extra-substituters = ${lib.concatMapStringsSep " " (c: c.url) cfg.caches}
            extra-trusted-public-keys = ${
              lib.concatStringsSep " " (lib.concatMap (c: lib.optional (c.publicKey != null) c.publicKey) cfg.caches)
            }''
          ++ lib.optional (cfg.refresh.enable && !cfg.systemTokens) ''
            programs.nix-tokens.refresh renews the tokens in ${systemTokenFile}, but /etc/nix/nix.conf
            includes that file only with programs.nix-tokens.systemTokens = true.'';

        launchd.daemons.nix-tokens-refresh = lib.mkIf cfg.refresh.enable {
          # nix-darwin runs it as `/bin/wait4path /nix/store && exec COMMAND`.
          command = lib.escapeShellArgs [
            (lib.getExe cfg.package)
            "--system"
            "refresh"
            "--quiet"
            "--threshold"
            (toString (2 * cfg.refresh.interval))
          ];
          serviceConfig = {
            StartInterval = cfg.refresh.interval * 60;
            RunAtLoad = true;
            ProcessType = "Background";
            StandardErrorPath = "/var/log/nix-tokens-refresh.log";
          };
        };
      }

      # nix-darwin with programs.git (as NixOS's) merges these sections with the others; without
      # it, nix-tokens writes /etc/gitconfig itself (nix-darwin refuses to replace an /etc/gitconfig
      # it did not write, so nothing of the machine's is lost).
      (lib.mkIf git.enable (
        if options ? programs.git.config then
          {
            programs.git.enable = lib.mkDefault true;
            programs.git.config = [ gitSections ];
          }
        else
          { environment.etc."gitconfig".text = lib.generators.toGitINI gitSections; }
      ))
    ]
  );
}
