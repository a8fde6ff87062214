# The home-manager options programs.nix-tokens sets, declared with home-manager's own types
# (modules/misc/nix/default.nix, home-environment.nix, programs/git.nix, systemd.nix,
# launchd/default.nix, lib/file-type.nix and nixpkgs' misc/assertions.nix), and what those
# modules do with them that the tests look at: programs.git renders its settings with
# lib.generators.toGitINI into xdg.configFile."git/config".text, nix.conf needs nix.package, and
# launchd agents are refused on Linux.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;

  semanticConfType =
    let
      confAtom =
        types.nullOr (
          types.oneOf [
            types.bool
            types.int
            types.float
            types.str
            types.path
            types.package
          ]
        )
        // {
          description = "Nix config atom (null, bool, int, float, str, path or package)";
        };
    in
    types.attrsOf (types.either confAtom (types.listOf confAtom));

  gitIniType =
    let
      primitiveType = types.either types.str (types.either types.bool types.int);
      multipleType = types.either primitiveType (types.listOf primitiveType);
      sectionType = types.attrsOf multipleType;
      supersectionType = types.attrsOf (types.either multipleType sectionType);
    in
    types.attrsOf supersectionType;

  # systemd.nix: unitBaseType, with the options it declares for every unit and for services.
  unitType =
    extra:
    types.attrsOf (
      types.submodule {
        freeformType =
          let
            primitive = types.oneOf [
              types.bool
              types.int
              types.str
              types.path
            ];
          in
          types.attrsOf (types.attrsOf (types.either primitive (types.listOf primitive)));
        imports = [
          {
            options.Unit = {
              Description = mkOption {
                type = types.nullOr types.str;
                default = null;
              };
              Documentation = mkOption {
                type = types.coercedTo types.str lib.toList (types.listOf types.str);
                default = [ ];
              };
            };
          }
          extra
        ];
      }
    );
  serviceOptions = {
    options.Service = {
      Environment = mkOption {
        type = types.coercedTo types.str lib.toList (types.listOf types.str);
        default = [ ];
      };
      ExecStart = mkOption {
        type =
          let
            primitive = types.either types.package types.str;
          in
          types.either primitive (types.listOf primitive);
        apply = lib.toList;
        default = [ ];
      };
    };
  };

  launchdAgent =
    { name, config, ... }:
    {
      options = {
        enable = lib.mkEnableOption name;
        domain = mkOption {
          type = types.enum [
            "gui"
            "user"
          ];
          default = "gui";
        };
        config = mkOption {
          type = types.submodule ./launchd-plist.nix;
          default = { };
        };
      };
      config = lib.mkMerge [
        { config.Label = lib.mkDefault "org.nix-community.home.${name}"; }
        (lib.mkIf (config.domain == "user") {
          config.LimitLoadToSessionType = lib.mkDefault "Background";
        })
      ];
    };

  git = config.programs.git;
  settingsFragments = lib.filter (fragment: fragment != { }) (
    if builtins.isList git.settings then git.settings else [ ]
  );
  renderedIniFragments = lib.filter (text: lib.match "[[:space:]]*" text == null) (
    [ (lib.generators.toGitINI git.iniContent) ] ++ map lib.generators.toGitINI settingsFragments
  );
  agents = lib.filterAttrs (_: agent: agent.enable) config.launchd.agents;
in
{
  options = {
    nix.package = mkOption {
      type = types.nullOr types.package;
      default = null;
    };
    nix.extraOptions = mkOption {
      type = types.lines;
      default = "";
    };
    nix.settings = mkOption {
      type = types.submodule { freeformType = semanticConfType; };
      default = { };
    };
    home.packages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
    programs.git = {
      enable = lib.mkEnableOption "Git";
      settings = mkOption {
        type = types.either gitIniType (types.listOf gitIniType);
        default = { };
      };
      iniContent = mkOption {
        type = gitIniType;
        internal = true;
      };
    };
    xdg.configFile = mkOption {
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
    systemd.user.services = mkOption {
      type = unitType serviceOptions;
      default = { };
    };
    systemd.user.timers = mkOption {
      type = unitType { };
      default = { };
    };
    launchd.enable = mkOption {
      type = types.bool;
      default = pkgs.stdenv.hostPlatform.isDarwin;
    };
    launchd.agents = mkOption {
      type = types.attrsOf (types.submodule launchdAgent);
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

  config = lib.mkMerge [
    {
      programs.git.iniContent = { };
      assertions = [
        {
          assertion = (config.launchd.enable && agents != { }) -> pkgs.stdenv.hostPlatform.isDarwin;
          message =
            "Must use Darwin for modules that require Launchd: "
            + lib.concatStringsSep ", " (lib.attrNames agents);
        }
      ];
    }
    (lib.mkIf git.enable {
      xdg.configFile."git/config".text = lib.concatStringsSep "\n" renderedIniFragments;
    })
    (lib.mkIf (!builtins.isList git.settings && git.settings != { }) {
      programs.git.iniContent = git.settings;
    })
    (lib.mkIf (config.nix.settings != { } || config.nix.extraOptions != "") {
      assertions = [
        {
          assertion = config.nix.package != null;
          message = "A corresponding Nix package must be specified via `nix.package` for generating nix.conf.";
        }
      ];
    })
  ];
}
