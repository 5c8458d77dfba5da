//! The console in a real browser: headless Chromium from Debian's packages, driven through
//! chromedriver (WebDriver, fantoccini). A staff member logs in, deactivates a user, merges
//! two animals and retries a failed job; the user then cannot log in through the API.
//! Screenshots of the main pages go to `$TMPDIR/bdx-console-screenshots/`.
//!
//! Without chromedriver the test is skipped with a loud message, except in CI (`CI=true`),
//! where it fails: `.ci/run` installs `chromium` and `chromium-driver` first.

use std::{path::PathBuf, process::Stdio, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::{
    admin::make_staff,
    helpers::{PASSWORD, TestApp, closed_port},
};

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn chromedriver() -> Option<PathBuf> {
    std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| find_on_path("chromedriver"))
        .or_else(|| {
            ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
        })
}

fn chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find_on_path("chromium"))
        .or_else(|| find_on_path("chromium-browser"))
}

/// chromedriver on a free port; killed when dropped.
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver(path: &PathBuf) -> Driver {
    let port = closed_port();
    // Waited for by `Driver`'s drop, or right here when it never listens.
    #[allow(clippy::zombie_processes)]
    let mut child = std::process::Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Driver { child, url };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("chromedriver did not listen on port {port}");
}

async fn browser(driver: &Driver) -> Client {
    let mut options = json!({
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-extensions", "--no-first-run",
            "--window-size=1280,1000",
        ],
    });
    if let Some(bin) = chromium() {
        options["binary"] = json!(bin.to_string_lossy());
    }
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".to_owned(), json!("chrome"));
    caps.insert("goog:chromeOptions".to_owned(), options);
    ClientBuilder::rustls()
        .expect("rustls connector")
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("WebDriver session")
}

fn shots_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("bdx-console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    let path = shots_dir().join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());
}

/// The notice of the page a form post led to: waits for the navigation, since a click on a
/// submit button may return before the next page has loaded.
async fn notice(c: &Client) -> String {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("p.notice"))
        .await
        .expect("a notice after the action")
        .text()
        .await
        .expect("notice text")
}

#[tokio::test]
async fn a_staff_member_runs_the_console_in_a_browser() {
    let Some(driver_path) = chromedriver() else {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !ci,
            "chromedriver not found in CI: install chromium and chromium-driver (.ci/run does)"
        );
        eprintln!(
            "\n\n!!!!!!!! SKIPPED the console's browser test: chromedriver not found \
             (apt-get install chromium chromium-driver) !!!!!!!!\n\n"
        );
        return;
    };
    let app = TestApp::spawn_with(&[("VISION_DAILY_BUDGET_USD", "0.008")]).await;
    app.user("root").await;
    make_staff(&app, "root").await;
    let alice = app.user("alice").await;
    let dup = app.animal(&alice, "Vulpes vulgaris").await;
    let real = app.animal(&alice, "Vulpes vulpes").await;
    let job = app.job_with_image(&alice, 1).await;
    let (s, body) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&alice.access),
            json!({"animal": dup, "source_vision_job": job}),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let failed = app.job_with_image(&alice, 2).await;
    app.sql(&format!(
        "UPDATE analysis_jobs SET status = 'failed', cost_usd = 0.0031, model_name = 'gpt-4o-mini', \
         error_message = 'The vision provider is unavailable; try again later.' WHERE id = '{failed}'"
    ))
    .await;
    app.sql(&format!(
        "UPDATE analysis_jobs SET cost_usd = 0.0024, model_name = 'gpt-4o' WHERE id = '{job}'"
    ))
    .await;

    let driver = start_driver(&driver_path).await;
    let c = browser(&driver).await;
    let result = async {
        // Anonymous: the login form.
        c.goto(&app.url("/admin/")).await?;
        assert!(c.current_url().await?.path().starts_with("/admin/login/"));
        shot(&c, "01-login").await;
        c.find(Locator::Css("input[name=username]"))
            .await?
            .send_keys("root")
            .await?;
        c.find(Locator::Css("input[name=password]"))
            .await?
            .send_keys(PASSWORD)
            .await?;
        c.find(Locator::Css("form.login button"))
            .await?
            .click()
            .await?;
        // The click may return before the next page has loaded (see `notice`); a timeout
        // is left to the assertion below, which names the page reached instead.
        let overview = url::Url::parse(&app.url("/admin/")).expect("overview URL");
        let _ = c
            .wait()
            .at_most(Duration::from_secs(20))
            .for_url(&overview)
            .await;
        assert_eq!(c.current_url().await?.path(), "/admin/");
        shot(&c, "02-overview").await;

        // Deactivate alice from her page, reached through the search.
        c.goto(&app.url("/admin/users/?q=alice")).await?;
        shot(&c, "03-users").await;
        c.find(Locator::LinkText("alice")).await?.click().await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("deactivate"))
            .await?
            .click()
            .await?;
        let text = notice(&c).await;
        assert!(text.contains("is_active true -> false"), "{text}");
        shot(&c, "04-user-deactivated").await;

        // Merge the duplicate animal into the real one.
        c.goto(&app.url(&format!("/admin/animals/{dup}/"))).await?;
        shot(&c, "05-animal").await;
        c.find(Locator::Id("merge-into"))
            .await?
            .send_keys(&real)
            .await?;
        c.find(Locator::Id("merge")).await?.click().await?;
        let text = notice(&c).await;
        assert!(text.contains("merged into `Vulpes vulpes`"), "{text}");
        assert_eq!(
            c.current_url().await?.path(),
            format!("/admin/animals/{real}/")
        );
        shot(&c, "06-animal-merged").await;

        // Retry the failed job.
        c.goto(&app.url("/admin/jobs/?status=failed")).await?;
        shot(&c, "07-jobs").await;
        c.find(Locator::Css("button.retry")).await?.click().await?;
        let text = notice(&c).await;
        assert!(text.contains("queued again"), "{text}");

        for (page, name) in [
            ("/admin/system/", "08-system"),
            ("/admin/taxonomy/", "09-taxonomy"),
            ("/admin/audit/", "10-audit"),
        ] {
            c.goto(&app.url(page)).await?;
            shot(&c, name).await;
        }
        Ok::<(), fantoccini::error::CmdError>(())
    }
    .await;
    let _ = c.close().await;
    result.expect("browser session");

    let (status, _) = app.login("alice", PASSWORD).await;
    assert_eq!(
        status, 401,
        "a deactivated user cannot log in through the API"
    );
    let (status, _) = app.get_as("/api/v1/users/me/", &alice.access).await;
    assert_eq!(status, 401);
    let mut conn = app.state.db.get().await.unwrap();
    use biologidex_db::schema::{analysis_jobs, animals, dex_entries};
    use diesel::{ExpressionMethods, QueryDsl};
    use diesel_async::RunQueryDsl;
    let status: String = analysis_jobs::table
        .find(uuid::Uuid::parse_str(&failed).unwrap())
        .select(analysis_jobs::status)
        .first(&mut conn)
        .await
        .unwrap();
    assert_eq!(status, "pending");
    let left: i64 = animals::table
        .filter(animals::id.eq(uuid::Uuid::parse_str(&dup).unwrap()))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let moved: i64 = dex_entries::table
        .filter(dex_entries::animal_id.eq(uuid::Uuid::parse_str(&real).unwrap()))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(moved, 1);
}
