# The NixOS options programs.nix-tokens sets, declared with the types nixpkgs gives them
# (nixos/modules/config/nix.nix, config/system-path.nix, misc/assertions.nix and
# nixos/lib/systemd-unit-options.nix, systemd-lib.nix): only the options the module touches, and
# those of a unit that it sets, so that a misspelt or mistyped one fails the evaluation.
{ lib, ... }:
let
  inherit (lib) mkOption types;

  unitNameType = types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)";

  unitOption = lib.mkOptionType {
    name = "systemd option";
    merge =
      loc: defs:
      let
        defs' = lib.filterOverrides defs;
      in
      if lib.any (def: lib.isList def.value) defs' then
        lib.concatMap (def: lib.toList def.value) defs'
      else
        lib.mergeEqualOption loc defs';
  };

  # systemd-lib.nix: checkUnitConfig "Service" [ (assertValueOneOf "Type" …) … ].
  assertValueOneOf =
    name: values: group: attr:
    lib.optional (
      attr ? ${name} && !lib.elem attr.${name} values
    ) "Systemd ${group} field `${name}' cannot have value `${toString attr.${name}}'.";
  checkService =
    attrs:
    let
      errors =
        assertValueOneOf "Type" [
          "exec"
          "simple"
          "forking"
          "oneshot"
          "dbus"
          "notify"
          "notify-reload"
          "idle"
        ] "Service" attrs
        ++ assertValueOneOf "Restart" [
          "no"
          "on-success"
          "on-failure"
          "on-abnormal"
          "on-abort"
          "always"
        ] "Service" attrs;
    in
    if errors == [ ] then true else builtins.trace (lib.concatStringsSep "\n" errors) false;

  units = mkOption {
    type = types.listOf unitNameType;
    default = [ ];
  };

  commonUnitOptions = {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
      };
      description = mkOption {
        type = types.singleLineStr;
        default = "";
      };
      wantedBy = units;
      requiredBy = units;
      after = units;
      before = units;
      wants = units;
      requires = units;
      unitConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
      };
    };
  };

  service = types.submodule [
    commonUnitOptions
    {
      options.serviceConfig = mkOption {
        type = types.addCheck (types.attrsOf unitOption) checkService;
        default = { };
      };
      # nixos/lib/systemd-unit-options.nix: serviceOptions and stage2ServiceOptions.
      options.script = mkOption {
        type = types.lines;
        default = "";
      };
      options.restartTriggers = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
      };
    }
  ];

  timer = types.submodule [
    commonUnitOptions
    {
      options.timerConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
      };
    }
  ];
in
{
  options = {
    nix.extraOptions = mkOption {
      type = types.lines;
      default = "";
    };
    # config/nix.nix: a freeform submodule whose list settings merge by concatenation.
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
      default = { };
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
    systemd.services = mkOption {
      type = types.attrsOf service;
      default = { };
    };
    systemd.timers = mkOption {
      type = types.attrsOf timer;
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
