//! Where downloads are cached: `TAPEGRAD_DATA` first, then the platform's cache folder.
//! (Its own test binary with one test: it changes environment variables.)

use std::path::PathBuf;

use tapegrad_datasets::{DataError, Source, cache_dir};

#[test]
fn tapegrad_data_then_the_platform_cache() {
    // SAFETY: this binary runs this one test, on one thread, so nothing reads the
    // environment while it changes.
    unsafe {
        std::env::set_var("TAPEGRAD_DATA", "/data/tapegrad");
        assert_eq!(cache_dir().unwrap(), PathBuf::from("/data/tapegrad"));
        assert_eq!(Source::mnist().cache_dir().unwrap(), PathBuf::from("/data/tapegrad/mnist"));
        assert_eq!(Source::cifar10().cache_dir().unwrap(), PathBuf::from("/data/tapegrad/cifar-10"));

        // Empty counts as unset.
        std::env::set_var("TAPEGRAD_DATA", "");
        if cfg!(target_os = "linux") {
            std::env::set_var("XDG_CACHE_HOME", "/xdg");
            std::env::set_var("HOME", "/home/someone");
            assert_eq!(cache_dir().unwrap(), PathBuf::from("/xdg/tapegrad"));
            std::env::remove_var("XDG_CACHE_HOME");
            assert_eq!(cache_dir().unwrap(), PathBuf::from("/home/someone/.cache/tapegrad"));
            std::env::remove_var("HOME");
            let err = cache_dir().unwrap_err();
            assert!(matches!(err, DataError::NoCacheDir { .. }));
            assert_eq!(
                err.to_string(),
                "no cache folder: neither XDG_CACHE_HOME nor HOME is set; set TAPEGRAD_DATA to a folder for downloaded data"
            );
        }
    }
}
