# The nix-darwin options programs.nix-tokens sets, declared with nix-darwin's own types
# (modules/nix/default.nix, config/system-path.nix, launchd/default.nix, system/default.nix),
# and what nix-darwin makes of a daemon's `command`: the job runs
# `/bin/sh -c "/bin/wait4path /nix/store && exec COMMAND"` under the label org.nixos.NAME.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;

  # modules/nix/default.nix: with nix.enable off, reading an undefined nix.* option is a bug.
  managedDefault =
    name: default:
    if config.nix.enable then
      default
    else
      throw "${name}: accessed when `nix.enable` is off; this is a bug in nix-darwin or a third-party module";

  serviceOptions =
    { config, name, ... }:
    {
      options = {
        environment = mkOption {
          type = types.attrsOf (types.either types.str (types.listOf types.str));
          default = { };
          apply = lib.mapAttrs (_: v: if lib.isList v then lib.concatStringsSep ":" v else v);
        };
        command = mkOption {
          type = types.either types.str types.path;
          default = "";
        };
        serviceConfig = mkOption {
          type = types.submodule ./launchd-plist.nix;
          default = { };
        };
      };
      config = {
        serviceConfig.Label = lib.mkDefault "org.nixos.${name}";
        serviceConfig.ProgramArguments = lib.mkIf (config.command != "") [
          "/bin/sh"
          "-c"
          "/bin/wait4path /nix/store && exec ${config.command}"
        ];
        serviceConfig.EnvironmentVariables = lib.mkIf (config.environment != { }) config.environment;
      };
    };
in
{
  options = {
    nix.enable = mkOption {
      type = types.bool;
      default = true;
    };
    nix.extraOptions = mkOption {
      type = types.lines;
      default = managedDefault "nix.extraOptions" "";
    };
    # modules/nix/default.nix: a freeform submodule whose list settings merge by concatenation.
    nix.settings = mkOption {
      type = types.submodule {
        freeformType = types.attrsOf types.anything;
        options.substituters = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        options.trusted-public-keys = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
      };
      default = managedDefault "nix.settings" { };
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
    # modules/system/etc.nix: each file's `text` (the rest of the submodule is not used here).
    environment.etc = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.text = mkOption {
            type = types.nullOr types.lines;
            default = null;
          };
        }
      );
      default = { };
    };
    launchd.daemons = mkOption {
      type = types.attrsOf (types.submodule serviceOptions);
      default = { };
    };
    assertions = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };
    warnings = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
  };
}
